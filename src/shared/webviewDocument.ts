/**
 * The HTML document of the webviews, as one pure function: the extension serves it, and the
 * webview render check serves the very same document outside VS Code.
 */
export interface WebviewDocument {
  view: 'panel' | 'sidebar';
  nonce: string;
  /** Origin allowed for styles, fonts and images (VS Code's `webview.cspSource`). */
  cspSource: string;
  styleHref: string;
  /** Scripts in load order; each carries the nonce. */
  scripts: string[];
}

export function webviewDocument(d: WebviewDocument): string {
  const csp = [`default-src 'none'`, `script-src 'nonce-${d.nonce}'`, `style-src ${d.cspSource}`, `font-src ${d.cspSource}`, `img-src ${d.cspSource} data:`].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${d.styleHref}">
<title>Layer Profiler</title>
</head>
<body data-view="${d.view}">
<div id="app"></div>
${d.scripts.map((src) => `<script nonce="${d.nonce}" src="${src}"></script>`).join('\n')}
</body>
</html>`;
}
