"""Quality checks: sacrebleu metrics, terminology metrics, significance tests, reference-free QA
and reports. Imports `corpus` (and, where a glossary is used, `translate.glossary`) only."""
