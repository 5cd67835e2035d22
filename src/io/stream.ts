/**
 * The container's output: two streams, read in pieces of STDIO_BUF_SIZE
 * bytes (conmon's STDIO_BUF_SIZE), so that where a log cuts a long line is
 * where conmon's cuts it.
 *
 * @module
 */

/** Which of the container's output streams a piece of output came from. */
export type Stream = "stdout" | "stderr";

/** The most one read of the container's output takes. */
export const STDIO_BUF_SIZE = 8192;
