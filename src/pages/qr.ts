// The enrollment QR code (ISO/IEC 18004) as inline SVG: authenticator apps scan the
// otpauth:// URI from the screen, which is how Auth0, Keycloak and Google show enrollment.
// Drawn on the server from the module matrix, so the page still runs no script, loads nothing
// (CSP default-src 'none'), and the seed never leaves this response.

import qrcode from "qrcode-generator";

/** One <path> of unit squares, scaled by the viewBox; a 4-module quiet zone as the spec asks. */
export function qrSvg(text: string, label: string): string {
  const code = qrcode(0, "M"); // smallest version that fits; level M survives a glare or a smudge
  code.addData(text, "Byte");
  code.make();
  const size = code.getModuleCount();
  const quiet = 4;
  let path = "";
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) if (code.isDark(row, col)) path += `M${col + quiet} ${row + quiet}h1v1h-1z`;
  }
  const side = size + 2 * quiet;
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" width="200" height="200" role="img" aria-label="${label}" shape-rendering="crispEdges"><rect width="${side}" height="${side}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
}
