"""The studies behind the shipped choices (most ask one question by artist-grouped
cross-validation), a timing study, and the script that made the stored musicnn reference values;
run each from the repository root as `python -m studies.<name>`. Their questions, commands and
results: studies/RESULTS.md."""
