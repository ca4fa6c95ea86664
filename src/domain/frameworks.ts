// The inference engines a recipe can name. The bottom of the layers: imported by the recipe
// schema, the support data and everything above; imports nothing.

export const FRAMEWORKS = ['vllm', 'sglang', 'trtllm', 'custom'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/** The engines the support matrix lists (custom is never checked against it). */
export const MATRIX_FRAMEWORKS = ['vllm', 'sglang', 'trtllm'] as const;
export type MatrixFramework = (typeof MATRIX_FRAMEWORKS)[number];
