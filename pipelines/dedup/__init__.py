"""Deduplication: the three pipeline steps, the run's labeler and everything they share.

* :mod:`.exact` (step 5) — same URL/id dropped, content hashes computed, records registered with the labeler;
* :mod:`.seen` (step 5b) — records committed by earlier runs: unchanged skipped, changed versioned;
* :mod:`.near` (step 5c) — MinHash signatures for near-duplicate matching;
* :mod:`.labels` — the run's :class:`~.labels.DedupLabeler`: clusters and labels when the run ends, state commit;
* :mod:`.minhash` (signatures, LSH band keys), :mod:`.edges` (which records are linked), :mod:`.clusters`
  (components and representatives) — pure functions;
* :mod:`.shared_labels` — the labeler in shared mode (REDIS_URL): labels chosen once for every worker of a round;
* :mod:`.rebuild` — the cross-run state recomputed from the committed Parquet files;
* :mod:`.keys` — what identifies a record and which records take part: imported by all of the above, imports
  none of them.
"""
