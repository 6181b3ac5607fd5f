// nginx in front of the demo's instances, run unprivileged: a generated config in a temp dir
// (`-p`), every path it writes (pid, temp files) inside it, its log on stderr, in the foreground.
import { accessSync, chmodSync, constants, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST } from './loopback.mjs';

/** Debian installs nginx in /usr/sbin, which is not on every user's PATH. */
export function findNginx(env = process.env) {
  const dirs = [...(env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, 'nginx'), constants.X_OK);
      return join(dir, 'nginx');
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * Round-robin over `instances` at `/`, and each instance on its own at `/instances/<id>/`, so
 * that the dashboard reads every instance's /metrics, /health and event stream through one origin.
 */
export function nginxConfig(dir, port, instances) {
  const upstream = instances.map(({ port: p }) => `    server ${HOST}:${p};`).join('\n');
  const direct = instances
    .map(({ id, port: p }) => `    location /instances/${id}/ {\n      proxy_pass http://${HOST}:${p}/;\n    }`)
    .join('\n');
  return `worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events {
  worker_connections 1024;
}
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  upstream instances {
${upstream}
    keepalive 32;
  }
  server {
    listen ${HOST}:${port};
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    # An edge proxy: the client is whoever connected to it, not what the request claims.
    proxy_set_header X-Forwarded-For $remote_addr;
    # Server-sent events must reach the browser as they are written.
    proxy_buffering off;
    proxy_read_timeout 1h;
    location / {
      proxy_pass http://instances;
    }
${direct}
  }
}
`;
}

/** Writes the config; returns nginx's arguments. */
export function prepareNginx(dir, port, instances) {
  // Workers of an nginx started by root run as nobody; they must reach their temp paths.
  chmodSync(dir, 0o755);
  const config = join(dir, 'nginx.conf');
  writeFileSync(config, nginxConfig(dir, port, instances));
  return ['-p', dir, '-c', config, '-e', 'stderr', '-g', 'daemon off;'];
}
