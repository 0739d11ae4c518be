"""Campaigns: a plan's scenarios × tools × repeats (× seeds), split over shards that any job
engine (a CI matrix, a Kubernetes Indexed Job, a Slurm array) runs as N copies, then merged.

lab.campaign.plan reads and checks the plan file and lists its trials (stable ids, the plan's
hash); lab.campaign.shard runs one shard's trials with the comparison's runner; results holds
the per-trial result files; merge turns folders of them into the comparison's matrix;
command is the `blocklab campaign` subcommand. See docs/campaigns.md.
"""
