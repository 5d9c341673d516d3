"""One test per hole a security review found (and the holes of the same kind found since):
each fails on the code before its fix. See docs/security.md for the threat model."""
