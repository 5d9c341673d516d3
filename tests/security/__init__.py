"""One test per hole a security review found (and the holes of the same kind found since):
each fails on the code before its fix. See docs/security.md for the threat model.

The ones that need a browser live with the other browser tests, in
`tests/test_web_security.py`: the browser's event loop, once started, stays for the rest of
the session, so browser tests run last."""
