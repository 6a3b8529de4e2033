"""One force's process, from referral to arrest, as SimPy processes.

A case is one process that walks the stages in order; each stage is a few lines below. Staff
do the work through pools (SimPy resources); effort hours become elapsed time through the
working calendar in one step. Investigators are a team (``staff.Team``): a caseload slot,
held from allocation until the post-arrest work is done (the allocation queue is the main
backlog), and their hands-on time, which the cases they hold compete for by assigned grade.
Cases worked round the clock (very high risk, and before grading the packages that show it)
skip every queue: on-call staff take them at once.

Which unit serves a case where forces collaborate (a regional triage hub, pooled
investigators or search teams, a surge unit) is not decided here but by the region's
collaboration policy (``collaboration.Collaboration``), asked at each stage.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

from ..config.schema import SimConfig
from ..core.calendar import Calendar
from ..domain import GRADES, UNGRADED, Outcome, Stage
from .demand import CaseTable
from .records import CaseRecords, Wip
from .staff import DayBook, Pool, Team
from .workforce import schedule

if TYPE_CHECKING:
    from .collaboration import Collaboration

# Plain ints: these index the work-in-progress table and the outcome column on every event.
INTAKE, RESEARCH, ASSESSMENT, ALLOCATION, PLANNING, WARRANT, EXECUTION, POST_ARREST = (int(s) for s in Stage)
(_OPEN, ARREST, VOLUNTARY_INTERVIEW, NO_TRACE, DUPLICATE, UNTRACEABLE, WARRANT_REFUSED,
 WARRANT_LAPSED) = (int(o) for o in Outcome)


class ForceModel:
    """The SimPy model of one force over one replication's cases (``cfg`` is the force's own
    config, ``SimConfig.force_configs``). The region sets ``policy`` before it runs."""

    def __init__(self, cfg: SimConfig, cases: CaseTable, env: simpy.Environment, cal: Calendar):
        self.cfg, self.env, self.cal, self.name = cfg, env, cal, cfg.force
        st, stg, run = cfg.staffing, cfg.stages, cfg.run

        def pool(name: str) -> Pool:
            return Pool(env, name, schedule(cfg, name), cal, run.warmup_days, run.horizon_days, self.name, st.availability)

        self.intake, self.research, self.assessment = pool("intake"), pool("research"), pool("assessment")
        self.team = Team(env, pool("investigators"), st.caseload_limit)
        self.court = DayBook("court", cal, stg.warrant.slots_per_sitting_day, self.name)
        self.search = DayBook("search_teams", cal, st.search_teams * stg.execution.warrants_per_team_per_day, self.name)
        self.hours_factor = 1.0 / st.availability  # contracted hours per hour of effort
        self.policy: Collaboration | None = None

        w = stg.warrant
        self.same_day = [g in w.same_day_grades for g in GRADES]
        self.out_of_hours = [g in w.out_of_hours_grades for g in GRADES]
        self.round_the_clock = [g in stg.round_the_clock_grades for g in GRADES]
        self.urgent_days_per_hour = 1.0 / (24.0 * stg.round_the_clock_speedup)
        self.urgent_execution = [g in stg.execution.urgent_grades for g in GRADES]
        self.refusal_p, self.refusal_per_year = w.refusal_probability, w.refusal_probability_per_year_of_age
        self.validity_days, self.max_applications = w.validity_days, w.max_applications
        ex = stg.execution
        self.p_arrest = ex.arrest_probability
        self.p_enforced = ex.arrest_probability + ex.voluntary_interview_probability

        # Python lists: indexing them from a process is several times cheaper than numpy.
        c = cases
        self.col = {name: getattr(c, name).tolist() for name in (
            "arrival_day", "start_stage", "assigned_grade", "urgent", "nonspecialist", "child", "intake_hours", "duplicate",
            "research_hours", "comms_days", "untraceable", "assessment_hours", "safeguarding_delay_days",
            "planning_hours", "planning_lag_days", "warrant_hours", "rework_hours", "defective", "refusal_u",
            "execution_lag_days", "outcome_u", "post_arrest_hours", "true_risk", "review_u", "pooling_handoff_days",
            "hub_handoff_days", "surge_handoff_days")}
        self.rec = CaseRecords(c.n)
        # (queue, start) columns of each pool-served stage, looked up once, not per task
        self.stage_columns = {s: (self.rec.times[f"{s}_queue_day"], self.rec.times[f"{s}_start_day"])
                              for s in ("intake", "research", "assessment")}
        self.wip = Wip()
        self.grade = list(self.col["assigned_grade"])  # the grade now: a review may raise it
        self.stage_of: list[int | None] = [None] * c.n
        self.waiting: dict[int, tuple] = {}  # case -> (resource, request) while it queues
        self.reviewed = [False] * c.n
        self.team_of: list[Team | None] = [None] * c.n  # the investigators holding the case
        self.review = stg.review
        self.targets = cfg.targets_days.as_tuple()

    # ------------------------------------------------------------------ running

    def start_arrivals(self) -> None:
        self.env.process(self._arrivals())

    def start_reviews(self) -> None:
        if self.review.analyst_cases_per_review > 0:
            self.env.process(self._analyst())
        if self.review.minimum_standards:
            self.env.process(self._minimum_standards())

    def _arrivals(self):
        env, arrival, case = self.env, self.col["arrival_day"], self._case
        for i, t in enumerate(arrival):
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(case(i))

    # ------------------------------------------------------------------ reviews

    def _analyst(self):
        """Every interval, the analyst reviews the longest-waiting cases of the grades they
        watch that nobody has reviewed yet."""
        r, env, arrival = self.review, self.env, self.col["arrival_day"]
        grades = {GRADES.index(g) for g in r.analyst_grades}
        while True:
            yield env.timeout(r.analyst_interval_days)
            due = sorted((i for i in self._awaiting_enforcement() if self.grade[i] in grades),
                         key=arrival.__getitem__)
            for i in due[: r.analyst_cases_per_review]:
                self._review(i)

    def _minimum_standards(self):
        """Daily: every waiting case past its grade's target is sent for review."""
        env, arrival, targets = self.env, self.col["arrival_day"], self.targets
        while True:
            yield env.timeout(1.0)
            for i in self._awaiting_enforcement():
                if env.now - arrival[i] > targets[self.grade[i]]:
                    self._review(i)

    def _awaiting_enforcement(self) -> list[int]:
        """Unreviewed cases queueing for an investigator before any enforcement: for a slot
        (allocation) or for the planning work."""
        return [i for i in self.waiting if not self.reviewed[i] and self.stage_of[i] in (ALLOCATION, PLANNING)]

    def _review(self, i: int) -> None:
        """A second look at a waiting case: one graded below its true risk is found with the
        detection probability (its own draw), regraded, moved up its queue and referred to
        safeguarding at once."""
        now, col, rec = self.env.now, self.col, self.rec
        self.reviewed[i] = True
        rec.reviewed_day[i] = now
        true, g = col["true_risk"][i], self.grade[i]
        if true >= g or col["review_u"][i] >= self.review.detection_probability:
            return
        stage = self.stage_of[i]
        self.wip.counts[stage][g] -= 1
        self.wip.counts[stage][true] += 1
        self.grade[i] = true
        rec.escalated_day[i] = now
        res, req = self.waiting[i]
        queue = res.put_queue
        if req in queue:  # still queued: re-insert it at its new priority, keeping its time
            queue.remove(req)
            req.priority, req.key = true, (true, req.time, not req.preempt)
            queue.append(req)
        if col["child"][i] and not rec.safeguarding_day[i] <= now:
            rec.safeguarding_day[i] = now

    # ------------------------------------------------------------------ work

    def _serve(self, pool: Pool, i: int, hours: float, stage: str, handoff_days: float = 0.0):
        """Queue for ``pool`` (FIFO) and work ``hours`` of effort; records queue and start.
        A package flagging immediate risk is taken at once by whoever is on duty. A case
        handed to another unit reaches its queue ``handoff_days`` later."""
        env = self.env
        queued, started = self.stage_columns[stage]
        queued[i] = env.now
        if handoff_days > 0:
            self.rec.handoff_days[i] += handoff_days
            yield env.timeout(handoff_days)
        if hours <= 0:
            started[i] = env.now
            return
        urgent = self.col["urgent"][i]
        req = None
        if not urgent:
            req = pool.res.request(priority=0)
            yield req
        t0 = env.now
        t1 = self._work(pool, t0, hours, urgent)
        started[i] = t0
        yield env.timeout(t1 - t0)
        if req is not None:
            pool.res.release(req)

    def _work_end(self, t0: float, hours: float, round_the_clock: bool, pace: float, hours_factor: float) -> tuple[float, float]:
        """When ``hours`` of effort started at ``t0`` are done, and the staff hours it takes.
        Effort is spread over office hours, the staff's availability (``hours_factor``
        contracted hours an hour of effort) and the pool's pace (learners, courses), or, for
        the most urgent cases, worked straight through by several people at once."""
        if round_the_clock:
            return t0 + hours * self.urgent_days_per_hour, hours
        contracted = hours * hours_factor * pace
        return self.cal.add_work_hours(t0, contracted), contracted

    def _work(self, pool: Pool, t0: float, hours: float, round_the_clock: bool) -> float:
        """Book ``hours`` of effort started at ``t0`` on ``pool``; returns when it is done."""
        t1, staff_hours = self._work_end(t0, hours, round_the_clock, pool.pace, pool.hours_factor)
        pool.add_busy(t0, t1, staff_hours)
        return t1

    def _hands_on(self, i: int, hours: float, started: list | None = None):
        """An investigator's hands-on work on case ``i``, by its grade's priority; the time it
        starts (days) is written to ``started[i]`` as soon as it is known."""
        env = self.env
        if hours <= 0:
            if started is not None:
                started[i] = env.now
            return
        inv = self.team_of[i].pool
        grade = self.grade[i]
        urgent = self.round_the_clock[grade]
        req = None
        if not urgent:  # urgent work is picked up at once (on call, overtime)
            req = inv.res.request(priority=grade)
            yield from self._wait(i, inv.res, req)
        t0 = env.now
        if started is not None:
            started[i] = t0
        t1 = self._work(inv, t0, hours, urgent)
        yield env.timeout(t1 - t0)
        if req is not None:
            inv.res.release(req)

    def _wait(self, i: int, res, req):
        """Wait for ``req``; meanwhile a review may move it up the queue."""
        self.waiting[i] = (res, req)
        yield req
        del self.waiting[i]

    def _enter(self, i: int, stage: int) -> None:
        self.wip.counts[stage][self.grade[i]] += 1
        self.stage_of[i] = stage

    def _leave(self, i: int, stage: int) -> None:
        self.wip.counts[stage][self.grade[i]] -= 1

    def _exit(self, i: int, outcome: int) -> None:
        self.rec.outcome[i] = outcome
        self.rec.exit_day[i] = self.env.now

    # ------------------------------------------------------------------ the case

    def _case(self, i: int):
        env, col, rec, times, wip = self.env, self.col, self.rec, self.rec.times, self.wip.counts
        first = col["start_stage"][i]

        if first <= INTAKE:
            wip[INTAKE][UNGRADED] += 1
            yield from self._serve(self.intake, i, col["intake_hours"][i], "intake")
            times["intake_end_day"][i] = env.now
            wip[INTAKE][UNGRADED] -= 1
            if col["duplicate"][i]:
                return self._exit(i, DUPLICATE)

        if first <= RESEARCH:
            wip[RESEARCH][UNGRADED] += 1
            yield from self._serve(self.research, i, col["research_hours"][i], "research")
            if col["comms_days"][i] > 0:  # communications data, authorised outside the force
                yield env.timeout(col["comms_days"][i])
            times["research_end_day"][i] = env.now
            wip[RESEARCH][UNGRADED] -= 1
            if col["untraceable"][i]:
                return self._exit(i, UNTRACEABLE)

        if first <= ASSESSMENT:
            wip[ASSESSMENT][UNGRADED] += 1
            hours = col["assessment_hours"][i]
            if col["nonspecialist"][i]:
                # A directly reported case assessed by a local non-specialist: no queue for
                # the specialist assessors, but an untrained grade (set in demand).
                times["assessment_queue_day"][i] = times["assessment_start_day"][i] = env.now
                end, _ = self._work_end(env.now, hours, col["urgent"][i], 1.0, self.hours_factor)
                if end > env.now:
                    yield env.timeout(end - env.now)
            else:
                pool, handoff = self.policy.assessors(self)
                delay = col[handoff][i] if handoff and not col["urgent"][i] else 0.0  # urgent: phoned through
                yield from self._serve(pool, i, hours, "assessment", delay)
            times["assessment_end_day"][i] = env.now
            wip[ASSESSMENT][UNGRADED] -= 1
            if col["child"][i]:
                rec.safeguarding_day[i] = env.now + col["safeguarding_delay_days"][i]
        elif col["child"][i]:
            # Waiting since before day 0 with its assessment done: its referral went (or goes)
            # out the usual delay after it reached the force.
            rec.safeguarding_day[i] = col["arrival_day"][i] + col["safeguarding_delay_days"][i]

        # Allocation: the main backlog, served by grade. A case worked round the clock is
        # taken on at once by its force's on-call investigators, over the caseload limit if
        # need be; the policy says which team any other case queues for.
        self._enter(i, ALLOCATION)
        times["allocation_queue_day"][i] = env.now
        slot = None
        if self.round_the_clock[self.grade[i]]:
            self.team_of[i] = self.policy.home_team(self)
            rec.investigated_by[i] = self.name
            times["allocation_start_day"][i] = env.now
        else:
            team = self.team_of[i] = self.policy.team_for(self, i)
            slot = team.caseload.request(priority=self.grade[i])
            yield from self._wait(i, team.caseload, slot)
            rec.slot_start_day[i] = times["allocation_start_day"][i] = env.now
            owner = rec.investigated_by[i] = team.take(slot, self.name, env.now)
            if owner != self.name:  # another force's investigators, or the surge unit
                delay = col[team.handoff_column][i]
                rec.handoff_days[i] += delay
                if delay > 0:
                    yield env.timeout(delay)
        times["allocation_end_day"][i] = env.now
        self._leave(i, ALLOCATION)

        self._enter(i, PLANNING)
        times["planning_queue_day"][i] = env.now
        yield from self._hands_on(i, col["planning_hours"][i], times["planning_start_day"])
        if col["planning_lag_days"][i] > 0:
            yield env.timeout(col["planning_lag_days"][i])
        times["planning_end_day"][i] = env.now
        self._leave(i, PLANNING)

        self._enter(i, WARRANT)
        times["warrant_queue_day"][i] = env.now
        executes_at = yield from self._warrant(i)
        self._leave(i, WARRANT)
        if executes_at is None:
            return self._release(i, slot)

        self._enter(i, EXECUTION)
        times["execution_queue_day"][i] = env.now
        if executes_at > env.now:
            yield env.timeout(executes_at - env.now)
        times["execution_start_day"][i] = times["execution_end_day"][i] = env.now
        self._leave(i, EXECUTION)
        u = col["outcome_u"][i]
        outcome = ARREST if u < self.p_arrest else VOLUNTARY_INTERVIEW if u < self.p_enforced else NO_TRACE
        rec.outcome[i] = outcome
        if outcome != NO_TRACE:
            rec.arrest_day[i] = env.now
            self._enter(i, POST_ARREST)
            yield from self._hands_on(i, col["post_arrest_hours"][i])
            self._leave(i, POST_ARREST)
        self._release(i, slot)

    def _release(self, i: int, slot) -> None:
        if slot is not None:
            self.team_of[i].give_back(slot, self.env.now)
            self.rec.slot_release_day[i] = self.env.now
        self.rec.exit_day[i] = self.env.now

    def _warrant(self, i: int):
        """Apply (and re-apply after a lapse) until a warrant is granted with an execution
        date inside its validity. Returns the execution time, or None after a refusal or
        once every application has lapsed (the outcome is then recorded)."""
        env, col, cal, rec, times = self.env, self.col, self.cal, self.rec, self.rec.times
        for attempt in range(self.max_applications):
            rec.warrant_applications[i] = attempt + 1
            yield from self._hands_on(i, col["warrant_hours"][i], times["warrant_start_day"] if attempt == 0 else None)
            if col["defective"][i][attempt]:  # the court's legal adviser sends it back
                yield from self._hands_on(i, col["rework_hours"][i])
            g = self.grade[i]
            if self.out_of_hours[g]:
                hearing = env.now
            elif self.same_day[g]:
                hearing = cal.next_opening(env.now)
            else:
                day = self.court.first_free(math.floor(env.now) + 1)
                self.court.book(day)
                hearing = cal.opening(day) + cal.hours / 48.0  # midday
            if hearing > env.now:
                yield env.timeout(hearing - env.now)
            age_years = (env.now - col["arrival_day"][i]) / 365.0
            if col["refusal_u"][i][attempt] < self.refusal_p + self.refusal_per_year * age_years:
                times["warrant_end_day"][i] = env.now
                self._exit(i, WARRANT_REFUSED)
                return None
            earliest = env.now + col["execution_lag_days"][i]
            if self.urgent_execution[g]:  # the force's teams are found for it, whatever is booked
                book, day = self.search, cal.next_working_day(math.floor(earliest))
            else:
                book = self.policy.search_book(self)
                day = book.first_free(math.floor(earliest))
            away = book.away(day, self.name)  # another force's team, after a hand-off
            handoff = col["pooling_handoff_days"][i] if away else 0.0
            executes_at = max(cal.opening(day), earliest) + handoff
            if executes_at <= env.now + self.validity_days:
                book.book(day, self.name)
                rec.handoff_days[i] += handoff
                times["warrant_end_day"][i] = env.now
                return executes_at
        times["warrant_end_day"][i] = env.now
        self._exit(i, WARRANT_LAPSED)
        return None
