/**
 * The number in a track_file, shared by the VRRP trackers (track_file) and the health checks
 * (FILE_CHECK). Pure: the callers read the file.
 */

/**
 * keepalived's strtol(buf, NULL, 0) on the first 127 bytes of a track file: leading space, a sign, 0x hex
 * or 0 octal, digits up to the first other character; no digits = 0. A value outside the 32-bit range is
 * refused (undefined: keepalived logs "Invalid number" and keeps the previous value).
 */
export function parseTrackFileValue(text: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)?/.exec(text.slice(0, 127));
  const digits = m?.[2];
  if (!digits) return 0;
  const magnitude = /^0[xX]/.test(digits) ? parseInt(digits.slice(2), 16) : digits.length > 1 && digits.startsWith('0') ? parseInt(digits, 8) : Number(digits);
  const value = m[1] === '-' ? -magnitude : magnitude;
  if (!Number.isSafeInteger(value) || value < -2147483648 || value > 2147483648) return undefined;
  return value;
}
