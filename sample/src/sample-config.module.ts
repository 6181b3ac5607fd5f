import { type DynamicModule, Module } from '@nestjs/common';
import { SAMPLE_CONFIG, type SampleConfig } from './sample-config.js';

/** Makes the instance's configuration injectable everywhere (what `ConfigModule` does in a real app). */
@Module({})
export class SampleConfigModule {
  static register(config: SampleConfig): DynamicModule {
    return { module: SampleConfigModule, global: true, providers: [{ provide: SAMPLE_CONFIG, useValue: config }], exports: [SAMPLE_CONFIG] };
  }
}
