import { Injectable } from '@nestjs/common';
import { Gauge, Registry } from 'prom-client';
import { DriftReportEntity } from '../database/entities';

/** Prometheus gauges of the latest drift report. */
@Injectable()
export class DriftMetrics {
  private readonly psi: Gauge<'kind' | 'name'>;
  private readonly maxPsi: Gauge;
  private readonly skewPsi: Gauge<'kind' | 'name'>;
  private readonly maxSkewPsi: Gauge;
  private readonly reference: Gauge<'reference'>;
  private readonly alert: Gauge;
  private readonly sampleSize: Gauge;
  private readonly checkedAt: Gauge;

  private loader: (() => Promise<DriftReportEntity | null>) | null = null;
  private refreshing: Promise<void> | null = null;
  private refreshedAt = 0;

  constructor(registry: Registry) {
    const registers = [registry];
    const collect = () => this.refresh();
    this.psi = new Gauge({
      name: 'reelrank_drift_psi',
      help: 'PSI of live traffic against the active model live reference window, per input feature or score head (see reelrank_drift_reference)',
      labelNames: ['kind', 'name'],
      registers,
      collect,
    });
    this.maxPsi = new Gauge({ name: 'reelrank_drift_max_psi', help: 'Largest PSI of the latest drift check', registers, collect });
    this.reference = new Gauge({
      name: 'reelrank_drift_reference',
      help: '1 for what the latest drift check compared with: live (the model reference window of live traffic) or pending (none captured yet)',
      labelNames: ['reference'],
      registers,
      collect,
    });
    this.skewPsi = new Gauge({
      name: 'reelrank_drift_skew_psi',
      help: 'Training-serving skew: PSI of live traffic against the active model training baseline, per input feature or score head (never alerts)',
      labelNames: ['kind', 'name'],
      registers,
      collect,
    });
    this.maxSkewPsi = new Gauge({ name: 'reelrank_drift_max_skew_psi', help: 'Largest training-serving skew PSI of the latest drift check', registers, collect });
    this.alert = new Gauge({ name: 'reelrank_drift_alert', help: '1 when the latest drift check exceeded DRIFT_ALERT_PSI', registers, collect });
    this.sampleSize = new Gauge({ name: 'reelrank_drift_sample_size', help: 'Live impressions used by the latest drift check', registers, collect });
    this.checkedAt = new Gauge({
      name: 'reelrank_drift_last_check_timestamp_seconds',
      help: 'When the latest drift check ran (unix seconds)',
      registers,
      collect,
    });
  }

  /** Makes every scrape first load the latest report (the api reads what the worker wrote). */
  refreshOnScrape(load: () => Promise<DriftReportEntity | null>): void {
    this.loader = load;
  }

  private refresh(): Promise<void> | void {
    if (!this.loader || Date.now() - this.refreshedAt < 1000) return this.refreshing ?? undefined;
    this.refreshedAt = Date.now();
    this.refreshing ??= this.loader()
      .then((report) => {
        if (report) this.record(report);
      })
      .catch(() => undefined)
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  record(report: DriftReportEntity): void {
    this.psi.reset();
    for (const [name, value] of Object.entries(report.psi.features ?? {})) this.psi.set({ kind: 'feature', name }, value);
    for (const [name, value] of Object.entries(report.psi.scores ?? {})) this.psi.set({ kind: 'score', name }, value);
    this.maxPsi.set(report.maxPsi ?? Number.NaN); // NaN: the last check had too little data
    this.reference.reset();
    this.reference.set({ reference: report.reference }, 1);
    this.skewPsi.reset();
    for (const [name, value] of Object.entries(report.skewPsi?.features ?? {})) this.skewPsi.set({ kind: 'feature', name }, value);
    for (const [name, value] of Object.entries(report.skewPsi?.scores ?? {})) this.skewPsi.set({ kind: 'score', name }, value);
    this.maxSkewPsi.set(report.maxSkewPsi ?? Number.NaN);
    this.alert.set(report.alert ? 1 : 0);
    this.sampleSize.set(report.sampleSize);
    this.checkedAt.set(report.computedAt.getTime() / 1000);
  }
}
