import { Controller, Get, Header } from '@nestjs/common';
import { DecisionCounter } from './decision-counter.js';

/** What a Prometheus server scrapes; the dashboard's chart reads it too. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly counter: DecisionCounter) {}

  @Get()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metrics() {
    return this.counter.text();
  }
}
