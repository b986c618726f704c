/** The device banner: which backend and device ran, as HTML and text (notebooks and reports). */
import { describeDevice, type DeviceInfo } from '../backend/device.ts';
import { escapeHtml } from './escape.ts';

/** How the device computes, in words: `GPU`, `software GPU: CPU speed` or `CPU`. */
export function deviceKind(info: DeviceInfo): string {
  return info.gpu ? 'GPU' : info.softwareGpu ? 'software GPU: CPU speed' : 'CPU';
}

/** "Ran on backend X, device Y (kind)", and what `auto` passed over. */
export function deviceText(info: DeviceInfo): string {
  return `Ran on ${describeDevice(info)}; tfjs ${info.versions.tfjs}, Node ${info.versions.node}, ${info.versions.platform}`;
}

/** The same as one HTML paragraph. */
export function deviceHtml(info: DeviceInfo): string {
  const skipped = info.skipped.length
    ? `<br><span class="switchyard-skipped">passed over: ${info.skipped.map((s) => `${escapeHtml(s.backend)} (${escapeHtml(s.reason)})`).join('; ')}</span>`
    : '';
  const asked = info.requested !== 'auto' && info.requested !== info.backend ? ` (asked for ${escapeHtml(info.requested)})` : '';
  return (
    `<p class="switchyard-device" data-backend="${escapeHtml(info.backend)}">Ran on backend <b>${escapeHtml(info.backend)}</b>${asked}, ` +
    `device <b>${escapeHtml(info.device)}</b> (${escapeHtml(deviceKind(info))}); ` +
    `tfjs ${escapeHtml(info.versions.tfjs)}, Node ${escapeHtml(info.versions.node)}, ${escapeHtml(info.versions.platform)}${skipped}</p>`
  );
}
