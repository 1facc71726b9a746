/** The file in a build that holds the fingerprint of the sources it was built from. */
export declare const STAMP_FILE: string;
/** The fingerprint of the sources under `root` (hex). */
export declare function sourceStamp(root: string): string;
/** The fingerprint a build in `out` was made from, or null (none there: not built, or by hand). */
export declare function builtStamp(out: string): string | null;
