"""Language tagging (step 4): :mod:`.step` the pipeline step, :mod:`.langdetect_fast` langdetect vectorised
with numpy (same answers, many texts at once), :mod:`.worker` the process the step sends its batches to.

Kept free of imports: the worker's fork server imports :mod:`.step` and nothing else.
"""
