import { Controller, type MessageEvent, Sse } from '@nestjs/common';
import { map, type Observable } from 'rxjs';
import { DecisionFeed } from './decision-feed.js';

/** Server-sent events: every request this instance blocks, as it happens. */
@Controller('demo')
export class BlockedFeedController {
  constructor(private readonly feed: DecisionFeed) {}

  @Sse('blocked')
  blocked(): Observable<MessageEvent> {
    return this.feed.blocked.pipe(map((entry) => ({ type: 'blocked', data: entry })));
  }
}
