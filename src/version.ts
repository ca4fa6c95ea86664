// The tool's version, part of every plan digest: a new tool version rebuilds.
export const TOOL_VERSION = '0.1.0';
