"""The lab: small, real training experiments that measure what warmup does."""
