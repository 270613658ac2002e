// jai --version. Names the untrusted user strict mode uses, and carries the NO WARRANTY notice, as upstream.
export const VERSION = '0.1.0';
export const UNTRUSTED_USER = 'jai';

export const VERSION_TEXT = `jai ${VERSION} (jaid client)
Untrusted user for strict mode: ${UNTRUSTED_USER}

Copyright (C) 2026 the jai authors.
License GPLv3+: GNU GPL version 3 or later <https://gnu.org/licenses/gpl.html>.
This is free software: you are free to change and redistribute it.
This program comes with NO WARRANTY, to the extent permitted by law.
`;
