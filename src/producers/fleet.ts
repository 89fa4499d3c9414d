import { destinationPoint, distanceKm, roundCoordinate } from './places.js';
import { Random } from './random.js';
import type { VehiclePosition } from './records.js';

export interface FleetOptions {
  seed: number;
  trucks: number;
  /** Each truck on a job reports its position this often. */
  reportIntervalMs: number;
  /** How far from the job a truck sets off, km. */
  startDistanceKm?: readonly [number, number];
  /** Average road speed, km/h. */
  speedKmh?: readonly [number, number];
  /** Jobs waiting for a free truck beyond this many are dropped, oldest first. */
  maxWaitingJobs?: number;
}

export interface TruckReport {
  vehicleId: string;
  /** When the report is due (ms on the runner's clock). */
  at: number;
  position: VehiclePosition;
}

interface Job {
  jobId: string;
  lat: number;
  long: number;
}

interface Truck {
  id: string;
  job?: Job;
  lat: number;
  long: number;
  kmPerReport: number;
  nextReportAt: number;
}

/**
 * Trucks drive from a start point a few km out straight toward their job's destination at a plausible speed,
 * reporting EN_ROUTE positions every interval and one ARRIVED at the destination; then they take the next job.
 */
export class Fleet {
  private readonly random: Random;
  private readonly trucks: Truck[];
  private readonly waiting: Job[] = [];
  private readonly startDistance: readonly [number, number];
  private readonly speed: readonly [number, number];
  private readonly maxWaiting: number;

  constructor(private readonly options: FleetOptions) {
    this.random = new Random(options.seed).fork(2);
    this.startDistance = options.startDistanceKm ?? [2, 12];
    this.speed = options.speedKmh ?? [25, 60];
    this.maxWaiting = options.maxWaitingJobs ?? 10_000;
    this.trucks = Array.from({ length: options.trucks }, (_, i) => ({
      id: `TRUCK-${String(i + 1).padStart(4, '0')}`,
      lat: 0,
      long: 0,
      kmPerReport: 0,
      nextReportAt: 0,
    }));
  }

  /** Trucks currently driving to a job. */
  get active(): number {
    let n = 0;
    for (const truck of this.trucks) if (truck.job) n++;
    return n;
  }

  addJob(jobId: string, lat: number, long: number): void {
    if (this.trucks.length === 0) return;
    this.waiting.push({ jobId, lat, long });
    if (this.waiting.length > this.maxWaiting) this.waiting.shift();
  }

  /** Position reports due at or before `now`, in time order per truck. */
  due(now: number): TruckReport[] {
    const reports: TruckReport[] = [];
    for (let i = 0; i < this.trucks.length; i++) {
      const truck = this.trucks[i]!;
      if (!truck.job) {
        const job = this.waiting.shift();
        if (!job) continue;
        this.dispatch(truck, job, now, i);
      }
      while (truck.job && truck.nextReportAt <= now) {
        reports.push(this.report(truck));
      }
    }
    return reports;
  }

  /** Earliest time a report will be due, or undefined when no truck is busy and no job waits. */
  nextDueAt(): number | undefined {
    let earliest: number | undefined;
    for (const truck of this.trucks) {
      if (truck.job && (earliest === undefined || truck.nextReportAt < earliest)) earliest = truck.nextReportAt;
    }
    return earliest;
  }

  private dispatch(truck: Truck, job: Job, now: number, index: number): void {
    const random = this.random;
    const [lat, long] = destinationPoint(
      job.lat,
      job.long,
      random.real(this.startDistance[0], this.startDistance[1]),
      random.real(0, 2 * Math.PI),
    );
    truck.job = job;
    truck.lat = lat;
    truck.long = long;
    const interval = this.options.reportIntervalMs;
    truck.kmPerReport = (random.real(this.speed[0], this.speed[1]) * interval) / 3_600_000;
    // Stagger first reports across the interval so K trucks do not all report in the same millisecond.
    truck.nextReportAt = now + Math.floor(((index + 0.5) / this.trucks.length) * Math.min(interval, 1000));
  }

  private report(truck: Truck): TruckReport {
    const job = truck.job!;
    const at = truck.nextReportAt;
    const remaining = distanceKm(truck.lat, truck.long, job.lat, job.long);
    let state: VehiclePosition['STATE'] = 'EN_ROUTE';
    if (remaining < 1e-6) {
      truck.lat = job.lat;
      truck.long = job.long;
      state = 'ARRIVED';
    }
    const position: VehiclePosition = {
      JOB_ID: job.jobId,
      STATE: state,
      LAT: roundCoordinate(truck.lat),
      LONG: roundCoordinate(truck.long),
    };
    if (state === 'ARRIVED') {
      truck.job = undefined;
    } else {
      const step = Math.min(truck.kmPerReport, remaining);
      const fraction = step / remaining;
      // Straight-line interpolation is exact enough over a few km.
      truck.lat += (job.lat - truck.lat) * fraction;
      truck.long += (job.long - truck.long) * fraction;
      truck.nextReportAt = at + this.options.reportIntervalMs;
    }
    return { vehicleId: truck.id, at, position };
  }
}
