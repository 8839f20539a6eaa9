from pilot.config import Settings
from pilot.scheduler import build_scheduler


def test_inbox_job_always_registered_and_draft_republish_only_when_enabled() -> None:
    off = build_scheduler(Settings(publish_interval_seconds=0))
    assert [job.id for job in off.get_jobs()] == ["inbox", "campaign", "jobs", "opinions", "outbox"]
    on = build_scheduler(Settings(publish_interval_seconds=600, inbox_interval_seconds=30))
    jobs = {job.id: job for job in on.get_jobs()}
    assert set(jobs) == {"inbox", "campaign", "jobs", "opinions", "outbox", "republish-draft"}
    assert jobs["republish-draft"].trigger.interval.total_seconds() == 600
    assert jobs["inbox"].trigger.interval.total_seconds() == 30
