"""Trust and safety: hash banks and the matcher, reports, moderation, orders, audit."""
