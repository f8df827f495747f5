/**
 * FILE_CHECK's verdict (pure), keepalived 2.2.7 check_file.c / track_file.c
 * process_update_checker_track_file_status: weight 0 → down while the value is non-zero (zero with
 * `reverse`); otherwise value × weight (negated by `reverse`) is clamped to the IPVS range −65536..65535,
 * −65536 (IPVS_WEIGHT_FAULT) is down, anything else is added to the real server's configured weight.
 */
export const IPVS_WEIGHT_MAX = 65535;
const IPVS_WEIGHT_FAULT = -IPVS_WEIGHT_MAX - 1;

export interface FileCheckVerdict {
  up: boolean;
  /** The weight to set while up: null = the configured weight (the file adds nothing). */
  weight: number | null;
  reason: string;
}

export function fileCheckVerdict(value: number, weight: number, reverse: boolean, configuredWeight: number): FileCheckVerdict {
  if (weight === 0) {
    const down = reverse ? value === 0 : value !== 0;
    return { up: !down, weight: null, reason: `track file value ${value}${down ? ' (weight 0: down)' : ''}` };
  }
  const status = Math.max(IPVS_WEIGHT_FAULT, Math.min(IPVS_WEIGHT_MAX, value * weight * (reverse ? -1 : 1)));
  if (status === IPVS_WEIGHT_FAULT) return { up: false, weight: null, reason: `track file value ${value} × weight ${weight}: fault` };
  const set = status === 0 ? null : Math.max(0, Math.min(IPVS_WEIGHT_MAX, configuredWeight + status));
  return { up: true, weight: set, reason: `track file value ${value} × weight ${weight}` };
}
