import { Injectable } from '@nestjs/common';

/** Demo accounts; a real app checks password hashes in its user store. */
const DEMO_USERS = new Map([['alice', 'wonderland']]);

@Injectable()
export class AuthService {
  verify(username: unknown, password: unknown): username is string {
    return typeof username === 'string' && DEMO_USERS.get(username.toLowerCase()) === password;
  }
}
