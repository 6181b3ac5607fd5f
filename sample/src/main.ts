import { createSampleApp } from './create-sample-app.js';
import { readSampleConfig } from './sample-config.js';

const config = readSampleConfig();
const app = await createSampleApp(config, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
await app.listen(config.port, config.host);
console.log(`${config.instanceName} listening on ${await app.getUrl()} (store: ${config.store})`);
