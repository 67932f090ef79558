/** Operator families the spine finder reasons about. Names are ONNX / com.microsoft op types. */

/** Ops that apply learned weights across the hidden dimension: what makes a branch a sublayer. */
export const MATMUL_LIKE = new Set([
  'MatMul', 'Gemm', 'MatMulInteger', 'MatMulNBits', 'MatMulBnb4', 'QLinearMatMul', 'FusedMatMul',
  'MatMulIntegerToFloat', 'DynamicQuantizeMatMul', 'FusedGemm', 'Conv', 'Einsum', 'QOrderedMatMul',
  'MatMulFpQ4', 'MatMulInteger16', 'QGemm', 'GemmFastGelu', 'ConvInteger', 'QLinearConv', 'FusedConv',
  // Mixture-of-experts blocks (Phi-3.5-MoE, Mixtral exports): the MLP is one fused op.
  'MoE', 'QMoE',
  'Attention', 'QAttention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention',
  'PackedMultiHeadAttention', 'SparseAttention', 'DecoderMaskedMultiHeadAttention',
  'DecoderMaskedSelfAttention', 'LongformerAttention', 'PagedAttention',
]);

/**
 * Fused ops that mix information across tokens: a sublayer holding one is attention. (Unfused
 * attention is recognised by its activation-by-activation MatMul instead: a Softmax alone is not
 * enough, since mixture-of-experts routers have one too.)
 */
export const ATTENTION_LIKE = new Set([
  'Attention', 'QAttention', 'MultiHeadAttention', 'GroupQueryAttention', 'PackedAttention',
  'PackedMultiHeadAttention', 'SparseAttention', 'DecoderMaskedMultiHeadAttention',
  'DecoderMaskedSelfAttention', 'LongformerAttention', 'PagedAttention',
]);

/** Products that mix tokens when both operands are activations (Q·Kᵀ, weights·V). */
export const PRODUCT_OPS = new Set(['MatMul', 'FusedMatMul', 'Einsum']);

/** Ops whose output depends only on their input's dimensions, never its values. */
export const METADATA_ONLY = new Set(['Shape', 'Size']);

/** Fused "residual add + norm" ops: output 0 is the normalized value, output 3 the residual sum. */
export const SKIP_NORM = new Set(['SkipLayerNormalization', 'SkipSimplifiedLayerNormalization']);

/** Ops that only relabel or re-type a tensor: the residual stream passes through them unchanged. */
export const PASS_THROUGH = new Set(['Cast', 'Identity', 'Reshape']);

/** Wrappers that run a whole generation loop inside one node: there is no spine to instrument. */
export const GENERATION_LOOPS = new Set(['BeamSearch', 'GreedySearch', 'Sampling', 'WhisperBeamSearch']);
