"""Trust and safety: reports, the moderation queue, removal orders, appeals, preservation,
the audit chain and the transparency report (and, from the banks, hash matching)."""
