"""The store interface the engine needs, its records, and the in-memory store.

`protocol` declares the unit of work (`Store`, `UnitOfWork`); `records` the rows it reads
and writes, one frozen dataclass per table; `memory` an implementation for tests and
benchmarks. `storage/` implements the same Protocol on SQL databases.
"""
