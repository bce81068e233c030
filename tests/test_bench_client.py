"""bench.client's arithmetic, without a browser: interactions grouped as web-vitals groups
them, their attribution, and which targets a result misses."""

from bench.client import interaction_latencies, missed_targets, phases, summarise


def entry(iid, name, duration, delay=0.0, processing=0.0):
    return {"id": iid, "name": name, "duration": duration, "delay": delay, "processing": processing}


def test_an_interaction_is_its_longest_entry_and_entries_without_an_id_are_left_out():
    entries = [
        entry(7, "pointerdown", 24),
        entry(7, "pointerup", 16),
        entry(7, "click", 48),
        entry(0, "mouseover", 120),  # no interactionId: not an interaction
        entry(9, "keydown", 32),
        entry(9, "keyup", 40),
    ]
    assert interaction_latencies(entries) == {7: 48.0, 9: 40.0}
    assert interaction_latencies([]) == {}


def test_phases_split_the_longest_entry():
    got = phases([entry(7, "pointerdown", 24, 4, 2), entry(7, "click", 48, 10, 30)])
    assert got == {
        "event": "click",
        "input_delay_ms": 10,
        "processing_ms": 30,
        "presentation_ms": 8,
    }
    assert phases([]) is None


def test_targets_p75_under_100_none_over_200_and_lcp_under_1500():
    # Nearest rank: the 75th percentile of five values is the fourth.
    steps = summarise(
        {"visit.save": [40, 50, 60, 70, 150], "queue.actions": [60, 90, 110, 120, 210]}
    )
    assert steps["visit.save"] == {"p75_ms": 70, "max_ms": 150}
    assert missed_targets(steps, lcp_p75=1200) == [
        "queue.actions: p75 120 ms (target < 100)",
        "queue.actions: max 210 ms (target <= 200)",
    ]
    assert missed_targets(summarise({"visit.save": [40]}), lcp_p75=1500) == [
        "today: LCP p75 1500 ms (target < 1500)"
    ]
