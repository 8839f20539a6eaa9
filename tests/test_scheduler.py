from pilot.config import Settings
from pilot.scheduler import build_scheduler


def test_inbox_job_always_registered_and_draft_republish_only_when_enabled() -> None:
    off = build_scheduler(Settings(publish_interval_seconds=0))
    assert [job.id for job in off.get_jobs()] == [
        "inbox",
        "campaign",
        "jobs",
        "opinions",
        "outbox",
        "editions",
    ]
    on = build_scheduler(Settings(publish_interval_seconds=600, inbox_interval_seconds=30))
    jobs = {job.id: job for job in on.get_jobs()}
    assert set(jobs) == {
        "inbox",
        "campaign",
        "jobs",
        "opinions",
        "outbox",
        "editions",
        "republish-draft",
    }
    # Editions loaded from the open data are written without `pilot render`, at start.
    assert jobs["editions"].trigger.interval.total_seconds() == 600
    assert "editions" not in {
        j.id for j in build_scheduler(Settings(render_interval_seconds=0)).get_jobs()
    }
    assert jobs["republish-draft"].trigger.interval.total_seconds() == 600
    assert jobs["inbox"].trigger.interval.total_seconds() == 30
