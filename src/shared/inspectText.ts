/** The layers `inspect` found, as text: for the command line and the extension's read-only document. */
import type { InspectResult } from '../core/api';

/** The layers found, in TransformerLens's vocabulary: blocks.i.resid_pre / attn_out / resid_mid / mlp_out / resid_post. */
export function formatInspect(r: InspectResult): string {
  const out = [
    `${r.model.id}`,
    `  file ${r.model.file}, dtype ${r.model.dtype}, opset ${r.model.opset}, ${r.model.style}${r.model.architecture ? `, ${r.model.architecture}` : ''}`,
    `  ${r.model.numLayers} layers${r.model.hiddenSize ? `, hidden size ${r.model.hiddenSize}` : ''}; the delta of block i is resid_post - resid_pre`,
    ...r.notes.map((n) => `  note: ${n}`),
  ];
  const row = (name: string, tensor: string, extra = '') => out.push(`    ${name.padEnd(11)} ${tensor}${extra}`);
  for (const l of r.layers) {
    out.push(`  blocks.${l.layer}`);
    row('resid_pre', l.residualIn);
    const split = l.substeps.length === 2;
    for (const s of l.substeps) {
      const output = s.kind === 'attention' ? 'attn_out' : s.kind === 'mlp' ? 'mlp_out' : 'block_out';
      if (s.branch) row(output, s.branch);
      if (split && s.kind === 'attention') row('resid_mid', s.residual);
    }
    if (!split && l.substeps[0]?.kind === 'parallel') out.push('    (parallel block: attention and MLP read the same resid_pre)');
    row('resid_post', l.residual, l.added ? `  [added: ${l.added}]` : '');
  }
  return out.join('\n') + '\n';
}

/** One progress line: texts, tokens (of those expected), rate, and time left estimated from tokens. */
