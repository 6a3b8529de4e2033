"""One force's process, from referral to arrest, as SimPy processes.

A case is one process (``ForceModel._case``) that walks the stages in order, one method a
stage: intake, research, assessment, allocation, planning, the warrant, execution and the
post-arrest work. A case of the initial backlog starts at its stage; one allocated before
day 0 (at planning, the warrant, execution or the post-arrest work) holds a caseload slot
from day 0. Staff do the work through pools (SimPy resources); effort hours become elapsed
time through the working calendar in one step. Investigators are a team (``staff.Team``): a
caseload slot, held from allocation until the post-arrest work is done (the allocation queue
is the main backlog, served by grade or, under ``stages.allocation_rule: due_date``, by due
date below high risk), and their hands-on time, which the cases they hold compete for by
grade. Cases worked round the clock (very high risk, and before grading the packages
that show it) skip every queue: on-call staff take them at once.

Which unit serves a case where forces collaborate (a regional triage hub, pooled
investigators or search teams, a surge unit) is not decided here but by the region's
collaboration policy (``policy.CollaborationPolicy``), asked at each decision; it also says
how long a hand-off to another unit takes.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import simpy

from ..config.schema import SimConfig
from ..core.calendar import Calendar
from ..domain import GRADES, STAGES, UNGRADED, Outcome, Stage
from .demand import M, CaseTable
from .engine import call_now, start, start_at
from .records import CaseRecords, Wip
from .staff import DayBook, OrderedRequest, Pool, Team
from .workforce import schedule

if TYPE_CHECKING:
    from .policy import CollaborationPolicy, SearchDiary

# The processes read the clock as ``env._now``, the attribute behind SimPy's ``Environment.now``
# property: they read it at nearly every step, and the property call costs more than the read.

# Plain ints: these index the work-in-progress table and the outcome column on every event.
INTAKE, RESEARCH, ASSESSMENT, ALLOCATION, PLANNING, WARRANT, EXECUTION, POST_ARREST = (int(s) for s in Stage)
(_OPEN, ARREST, VOLUNTARY_INTERVIEW, NO_TRACE, DUPLICATE, UNTRACEABLE, WARRANT_REFUSED,
 WARRANT_LAPSED) = (int(o) for o in Outcome)

# A backlog case allocated before day 0 asks for its caseload slot ahead of every grade (codes
# 0-3), so it keeps the slot it held; requests holding vacant posts (-1) still come first.
ALLOCATED_BEFORE_DAY_0 = -0.5

# The case attributes the processes read, drawn at arrival (``demand.CaseTable``).
DRAWN_COLUMNS = (
    "arrival_day", "start_stage", "assigned_grade", "urgent", "nonspecialist", "child", "intake_hours", "duplicate",
    "research_hours", "comms_days", "untraceable", "assessment_hours", "safeguarding_delay_days", "planning_hours",
    "planning_lag_days", "warrant_hours", "rework_hours", "defective", "refusal_u", "execution_lag_days", "outcome_u",
    "post_arrest_hours", "true_risk", "review_u")


class ForceModel:
    """The SimPy model of one force over one replication's cases (``cfg`` is the force's own
    config, ``SimConfig.force_configs``). The region sets ``policy`` before it runs."""

    def __init__(self, cfg: SimConfig, cases: CaseTable, env: simpy.Environment, cal: Calendar):
        self.cfg, self.env, self.cal, self.name, self.cases = cfg, env, cal, cfg.force, cases
        self.add_work_hours = cal.add_work_hours
        staffing, stages, run = cfg.staffing, cfg.stages, cfg.run

        def pool(name: str) -> Pool:
            return Pool(env, name, schedule(cfg, name), cal, run.warmup_days, run.horizon_days, self.name,
                        staffing.availability)

        self.intake, self.research, self.assessment = pool("intake"), pool("research"), pool("assessment")
        self.team = Team(env, pool("investigators"), staffing.caseload_limit)
        self.court = DayBook("court", cal, stages.warrant.slots_per_sitting_day, self.name)
        self.search = DayBook("search_teams", cal, staffing.search_teams * stages.execution.warrants_per_team_per_day,
                              self.name)
        self.hours_factor = 1.0 / staffing.availability  # contracted hours per hour of effort
        self.policy: CollaborationPolicy | None = None

        warrant, execution = stages.warrant, stages.execution
        self.same_day = [grade in warrant.same_day_grades for grade in GRADES]
        self.out_of_hours = [grade in warrant.out_of_hours_grades for grade in GRADES]
        self.round_the_clock = [grade in stages.round_the_clock_grades for grade in GRADES]
        self.urgent_days_per_hour = 1.0 / (24.0 * stages.round_the_clock_speedup)
        self.urgent_execution = [grade in execution.urgent_grades for grade in GRADES]
        self.refusal_probability = warrant.refusal_probability
        self.refusal_probability_per_year = warrant.refusal_probability_per_year_of_age
        self.validity_days, self.max_applications = warrant.validity_days, warrant.max_applications
        self.arrest_probability = execution.arrest_probability
        self.enforced_probability = execution.arrest_probability + execution.voluntary_interview_probability

        # Python tuples: indexing them from a process is several times cheaper than numpy, and
        # the collector, finding only numbers in a tuple, stops examining it (it examines a
        # list's every item at every collection that reaches it). A column drawn per
        # application (defective, refusal_u) is kept application by application,
        # [attempt][case]: a tuple per case would cost more to build than to use.
        self.drawn = {name: _tuples(getattr(cases, name)) for name in DRAWN_COLUMNS}
        self.records = CaseRecords(cases.n)
        self.times = self.records.times
        # (queue, start) columns of each pool-served stage, looked up once, not per task
        self.intake_columns, self.research_columns, self.assessment_columns = (
            (self.times[f"{stage}_queue_day"], self.times[f"{stage}_start_day"])
            for stage in ("intake", "research", "assessment"))
        self.wip = Wip()
        self.urgent = self.drawn["urgent"]
        self.grade = list(self.drawn["assigned_grade"])  # the grade now: a review may raise it
        self.stage_of: list[int | None] = [None] * cases.n
        self.waiting: dict[int, tuple] = {}  # case -> (resource, request) while it queues
        self.reviewed = [False] * cases.n
        self.team_of: list[Team | None] = [None] * cases.n  # the investigators holding the case
        self.review = stages.review
        self.targets = cfg.targets_days.as_tuple()
        self.due_date_order = stages.allocation_rule == "due_date"

    # ------------------------------------------------------------------ running

    def start_arrivals(self) -> None:
        """Let each case in on its arrival day (see ``_let_in``), from day 0."""
        self._arrived = 0
        call_now(self.env, self._let_in)

    def start_reviews(self) -> None:
        """Start the review processes the config switches on."""
        if self.review.analyst_cases_per_review > 0:
            self.env.process(self._analyst())
        if self.review.minimum_standards:
            self.env.process(self._minimum_standards())

    def _let_in(self, _event) -> None:
        """Start a process for each case arrived by now that has none (at day 0, the backlog's),
        and the next case's to start when it arrives, calling this again then. No process
        waits for the arrivals: the event that starts a case is where a waiting process's
        timeout would have been (``engine.start_at``), one event an arrival instead of two."""
        env, case, arrival, n = self.env, self._case, self.drawn["arrival_day"], self.cases.n
        i, now = self._arrived, env._now
        while i < n and arrival[i] <= now:
            start(env, case(i))
            i += 1
        if i < n:
            start_at(env, case(i), arrival[i] - now, first=self._let_in)
            i += 1
        self._arrived = i

    # ------------------------------------------------------------------ reviews

    def _analyst(self):
        """Every interval, the analyst reviews the longest-waiting cases of the grades they
        watch that nobody has reviewed yet."""
        review, env, arrival = self.review, self.env, self.drawn["arrival_day"]
        grades = {GRADES.index(grade) for grade in review.analyst_grades}
        while True:
            yield env.timeout(review.analyst_interval_days)
            due = sorted((i for i in self._awaiting_enforcement() if self.grade[i] in grades),
                         key=arrival.__getitem__)
            for i in due[: review.analyst_cases_per_review]:
                self._review(i)

    def _minimum_standards(self):
        """Daily: every waiting case past its grade's target is sent for review."""
        env, arrival, targets = self.env, self.drawn["arrival_day"], self.targets
        while True:
            yield env.timeout(1.0)
            for i in self._awaiting_enforcement():
                if env._now - arrival[i] > targets[self.grade[i]]:
                    self._review(i)

    def _awaiting_enforcement(self) -> list[int]:
        """Unreviewed cases queueing for an investigator before any enforcement: for a slot
        (allocation) or for the planning work."""
        return [i for i in self.waiting if not self.reviewed[i] and self.stage_of[i] in (ALLOCATION, PLANNING)]

    def _review(self, i: int) -> None:
        """A second look at a waiting case: one graded below its true risk is found with the
        detection probability (its own draw), regraded, moved up its queue and referred to
        safeguarding at once."""
        now, drawn, records = self.env._now, self.drawn, self.records
        self.reviewed[i] = True
        records.reviewed_day[i] = now
        true_risk, grade = drawn["true_risk"][i], self.grade[i]
        if true_risk >= grade or drawn["review_u"][i] >= self.review.detection_probability:
            return
        stage = self.stage_of[i]
        self.wip.counts[stage][grade] -= 1
        self.wip.counts[stage][true_risk] += 1
        self.grade[i] = true_risk
        records.escalated_day[i] = now
        resource, request = self.waiting[i]
        queue = resource.put_queue
        if request in queue:  # still queued: re-insert it at its new priority, keeping its time
            queue.remove(request)
            if isinstance(request, OrderedRequest):
                request.reorder(*self._due_date_order(i, true_risk, request.time))
            else:
                request.priority, request.key = true_risk, (true_risk, request.time, not request.preempt)
            queue.append(request)
        if drawn["child"][i] and not records.safeguarding_day[i] <= now:
            records.safeguarding_day[i] = now

    # ------------------------------------------------------------------ the case

    def _case(self, i: int):
        """Case ``i`` from the stage it starts in (a backlog case may start later than intake)
        until it leaves or the run ends."""
        first = self.drawn["start_stage"][i]
        if first <= INTAKE and not (yield from self._intake(i)):
            return
        if first <= RESEARCH and not (yield from self._research(i)):
            return
        if first <= ASSESSMENT:
            yield from self._assessment(i)
        else:
            self._referred_to_safeguarding_on_arrival(i)
        if first <= ALLOCATION:
            slot = yield from self._allocation(i)
        else:
            slot = yield from self._allocated_before_day_0(i, first)
        if first <= PLANNING:
            yield from self._planning(i)
        if first <= WARRANT:
            executes_at = yield from self._warrant(i, applied_before_day_0=first == WARRANT)
        elif first == EXECUTION:
            executes_at = self._search_booked(i)
        else:  # enforced before day 0: only its post-arrest work is left
            executes_at = None
            yield from self._post_arrest(i)
        if executes_at is not None:
            yield from self._execution(i, executes_at)
        self._release(i, slot)

    def _intake(self, i: int):
        """The referral is logged and checked; returns False if it is a duplicate (it leaves)."""
        drawn, wip = self.drawn, self.wip.counts
        wip[INTAKE][UNGRADED] += 1
        yield from self._serve(self.intake, i, drawn["intake_hours"][i], self.intake_columns)
        self.times["intake_end_day"][i] = self.env._now
        wip[INTAKE][UNGRADED] -= 1
        if drawn["duplicate"][i]:
            self._exit(i, DUPLICATE)
            return False
        return True

    def _research(self, i: int):
        """The suspect is identified, with communications data authorised outside the force;
        returns False if they cannot be traced (the case leaves)."""
        env, drawn, wip = self.env, self.drawn, self.wip.counts
        wip[RESEARCH][UNGRADED] += 1
        yield from self._serve(self.research, i, drawn["research_hours"][i], self.research_columns)
        if drawn["comms_days"][i] > 0:
            yield env.timeout(drawn["comms_days"][i])
        self.times["research_end_day"][i] = env._now
        wip[RESEARCH][UNGRADED] -= 1
        if drawn["untraceable"][i]:
            self._exit(i, UNTRACEABLE)
            return False
        return True

    def _assessment(self, i: int):
        """The case is graded (its grade was drawn at arrival) by whoever the policy says, or
        by a local non-specialist; a child in the household is referred to safeguarding."""
        env, drawn, wip = self.env, self.drawn, self.wip.counts
        wip[ASSESSMENT][UNGRADED] += 1
        hours = drawn["assessment_hours"][i]
        if drawn["nonspecialist"][i]:
            # A directly reported case assessed by a local non-specialist: no queue for
            # the specialist assessors, but an untrained grade (set in demand).
            self.times["assessment_queue_day"][i] = self.times["assessment_start_day"][i] = env._now
            end, _ = self._work_end(env._now, hours, drawn["urgent"][i], 1.0, self.hours_factor)
            if end > env._now:
                yield env.timeout(end - env._now)
        else:
            assessors, handoff_days = self.policy.assessors(self, i)
            if drawn["urgent"][i]:  # immediate risk is phoned through, not handed over
                handoff_days = 0.0
            yield from self._serve(assessors, i, hours, self.assessment_columns, handoff_days)
        self.times["assessment_end_day"][i] = env._now
        wip[ASSESSMENT][UNGRADED] -= 1
        if drawn["child"][i]:
            self.records.safeguarding_day[i] = env._now + drawn["safeguarding_delay_days"][i]

    def _referred_to_safeguarding_on_arrival(self, i: int) -> None:
        """A case waiting since before day 0 with its assessment done: its safeguarding
        referral went (or goes) out the usual delay after it reached the force."""
        drawn = self.drawn
        if drawn["child"][i]:
            self.records.safeguarding_day[i] = drawn["arrival_day"][i] + drawn["safeguarding_delay_days"][i]

    def _allocation(self, i: int):
        """The main backlog, served by grade (or by due date, ``_due_date_order``): the case
        waits for a caseload slot of the team the policy names, then for the hand-off if that
        team is not its own force's. A case worked round the clock is taken on at once by its
        force's on-call investigators, over the caseload limit if need be. Returns the slot (None if taken on call)."""
        env, records, times = self.env, self.records, self.times
        self._enter(i, ALLOCATION)
        times["allocation_queue_day"][i] = env._now
        slot = None
        if self.round_the_clock[self.grade[i]]:
            self.team_of[i] = self.policy.home_team(self)
            records.investigated_by[i] = self.name
            times["allocation_start_day"][i] = env._now
        else:
            team = self.team_of[i] = self.policy.team_for(self, i)
            if self.due_date_order:
                slot = OrderedRequest(team.caseload, *self._due_date_order(i, self.grade[i], env._now))
            else:
                slot = team.caseload.request(priority=self.grade[i])
            if slot.callbacks is not None:  # else granted and processed already (see _hands_on)
                self.waiting[i] = (team.caseload, slot)  # where a review finds it to move it up
                yield slot
                del self.waiting[i]
            records.slot_start_day[i] = times["allocation_start_day"][i] = env._now
            holder = records.investigated_by[i] = team.take(slot, self.name, env._now)
            if holder != self.name:  # another force's investigators, or a regional unit
                handoff_days = self.policy.investigator_handoff_days(self, i, team, holder)
                records.handoff_days[i] += handoff_days
                if handoff_days > 0:
                    yield env.timeout(handoff_days)
        times["allocation_end_day"][i] = env._now
        self._leave(i, ALLOCATION)
        return slot

    def _due_date_order(self, i: int, grade: int, asked_day: float) -> tuple[int, float]:
        """Where case ``i`` of ``grade``, asking on ``asked_day``, stands in the queue for a
        caseload slot under ``stages.allocation_rule: due_date``: very high and high risk
        first, each in the order they asked; then medium and low risk together by due date
        (referral day plus the grade's target), as a team working to its targets takes the
        case nearest to breaching (or furthest past) its target. Returns (priority, day)."""
        if grade < M:
            return grade, asked_day
        return M, self.drawn["arrival_day"][i] + self.targets[grade]

    def _allocated_before_day_0(self, i: int, stage: int):
        """A backlog case allocated before day 0 is in ``stage`` (planning, the warrant,
        execution or the post-arrest work) from day 0 and holds a caseload slot of its force's
        investigators: it asks for one ahead of every case queueing for allocation, so it is
        taken at once unless the backlog alone over-fills the caseload, when such cases wait
        for slots first, oldest first. A case of a grade worked round the clock is held on
        call, as at allocation, without a slot. Returns the slot (None if on call).

        A case at the post-arrest work had its warrant executed before day 0 and the suspect
        arrested or interviewed voluntarily; which of the two the backlog does not say, so its
        outcome is recorded as an arrest, from day 0 (its ``arrest_day`` stays unknown)."""
        env, records = self.env, self.records
        self._enter(i, stage)
        if stage == POST_ARREST:  # a stage without timestamps: its outcome shows where it is
            records.outcome[i] = ARREST
        else:
            self.times[f"{STAGES[stage]}_queue_day"][i] = env._now
        team = self.team_of[i] = self.policy.home_team(self)
        if self.round_the_clock[self.grade[i]]:
            records.investigated_by[i] = self.name
            return None
        slot = team.caseload.request(priority=ALLOCATED_BEFORE_DAY_0)
        if slot.callbacks is not None:  # else granted and processed already (see _hands_on)
            yield slot
        records.slot_start_day[i] = env._now
        records.investigated_by[i] = team.take(slot, self.name, env._now)
        return slot

    def _planning(self, i: int):
        """The investigator prepares the warrant application and the search, then waits
        for what the plan needs from others (the planning lag)."""
        env, times, lag_days = self.env, self.times, self.drawn["planning_lag_days"][i]
        if self.stage_of[i] != PLANNING:  # else in it since day 0 (_allocated_before_day_0)
            self._enter(i, PLANNING)
            times["planning_queue_day"][i] = env._now
        yield from self._hands_on(i, self.drawn["planning_hours"][i], times["planning_start_day"])
        if lag_days > 0:
            yield env.timeout(lag_days)
        times["planning_end_day"][i] = env._now
        self._leave(i, PLANNING)

    def _warrant(self, i: int, applied_before_day_0: bool = False):
        """Apply (and re-apply after a lapse) until a warrant is granted with an execution
        date inside its validity. Returns the execution time (day), or None after a refusal
        or once every application has lapsed (the outcome is then recorded). A backlog case
        whose first application was made before day 0 (``applied_before_day_0``) has it
        lodged at day 0, its preparation done (the court may still send it back)."""
        env, drawn, records, times = self.env, self.drawn, self.records, self.times
        if self.stage_of[i] != WARRANT:  # else in it since day 0 (_allocated_before_day_0)
            self._enter(i, WARRANT)
            times["warrant_queue_day"][i] = env._now
        executes_at, ended = None, WARRANT_LAPSED
        for attempt in range(self.max_applications):
            records.warrant_applications[i] = attempt + 1
            if attempt == 0 and applied_before_day_0:
                times["warrant_start_day"][i] = env._now
            else:
                started = times["warrant_start_day"] if attempt == 0 else None  # the first application's start
                yield from self._hands_on(i, drawn["warrant_hours"][i], started)
            if drawn["defective"][attempt][i]:  # the court's legal adviser sends it back
                yield from self._hands_on(i, drawn["rework_hours"][i])
            grade = self.grade[i]
            hearing_day = self._hearing_day(grade)
            if hearing_day > env._now:
                yield env.timeout(hearing_day - env._now)
            age_years = (env._now - drawn["arrival_day"][i]) / 365.0
            refusal_probability = self.refusal_probability + self.refusal_probability_per_year * age_years
            if drawn["refusal_u"][attempt][i] < refusal_probability:
                ended = WARRANT_REFUSED
                break
            book, day, execution_day, handoff_days = self._search_day(i, grade)
            if execution_day <= env._now + self.validity_days:  # else it lapses before: apply again
                book.book(day, self.name)
                records.handoff_days[i] += handoff_days
                executes_at = execution_day
                break
        times["warrant_end_day"][i] = env._now
        if executes_at is None:
            self._exit(i, ended)
        self._leave(i, WARRANT)
        return executes_at

    def _search_day(self, i: int, grade: int) -> tuple[SearchDiary, int, float, float]:
        """Where and when the warrant of case ``i`` granted now would be executed, not yet
        booked: the search diary, the day to book in it, the execution time (day) and the
        hand-off delay (days) in it. Its execution lag first; then, for an urgent grade, the
        force's own teams on the next working day (found whatever is booked), else the
        diary's first free day."""
        cal = self.cal
        earliest = self.env._now + self.drawn["execution_lag_days"][i]
        if self.urgent_execution[grade]:
            book, day, handoff_days = self.search, cal.next_working_day(math.floor(earliest)), 0.0
        else:
            book = self.policy.search_book(self)
            day = book.first_free(math.floor(earliest))
            handoff_days = self.policy.search_handoff_days(self, i, book, day)
        return book, day, max(cal.opening(day), earliest) + handoff_days, handoff_days

    def _search_booked(self, i: int) -> float:
        """A backlog case whose warrant was granted before day 0 has its search booked now
        (its validity, begun before day 0, unknown, is not checked). Returns the execution
        time (day)."""
        book, day, execution_day, handoff_days = self._search_day(i, self.grade[i])
        book.book(day, self.name)
        self.records.handoff_days[i] += handoff_days
        return execution_day

    def _hearing_day(self, grade: int) -> float:
        """When a warrant of ``grade`` applied for now is heard (day): at once out of hours,
        at the court's next opening for a same-day grade, else at midday of the first day
        with a free slot in the court's list (booked now)."""
        env, cal = self.env, self.cal
        if self.out_of_hours[grade]:
            return env._now
        if self.same_day[grade]:
            return cal.next_opening(env._now)
        day = self.court.first_free(math.floor(env._now) + 1)
        self.court.book(day)
        return cal.opening(day) + cal.hours / 48.0  # midday

    def _execution(self, i: int, executes_at: float):
        """The warrant is executed at ``executes_at`` (day): the suspect is arrested,
        interviewed voluntarily or not found; the post-arrest work follows an enforcement."""
        env, records, times = self.env, self.records, self.times
        if self.stage_of[i] != EXECUTION:  # else in it since day 0 (_allocated_before_day_0)
            self._enter(i, EXECUTION)
            times["execution_queue_day"][i] = env._now
        if executes_at > env._now:
            yield env.timeout(executes_at - env._now)
        times["execution_start_day"][i] = times["execution_end_day"][i] = env._now
        self._leave(i, EXECUTION)
        outcome_draw = self.drawn["outcome_u"][i]
        if outcome_draw < self.arrest_probability:
            outcome = ARREST
        elif outcome_draw < self.enforced_probability:
            outcome = VOLUNTARY_INTERVIEW
        else:
            outcome = NO_TRACE
        records.outcome[i] = outcome
        if outcome != NO_TRACE:
            records.arrest_day[i] = env._now
            yield from self._post_arrest(i)

    def _post_arrest(self, i: int):
        """After an enforcement the investigator interviews, examines the devices and builds
        the file: the case's post-arrest hours of hands-on work, at its grade's priority."""
        if self.stage_of[i] != POST_ARREST:  # else in it since day 0 (_allocated_before_day_0)
            self._enter(i, POST_ARREST)
        yield from self._hands_on(i, self.drawn["post_arrest_hours"][i])
        self._leave(i, POST_ARREST)

    def _release(self, i: int, slot) -> None:
        """The case is done: its caseload slot (if it held one) is given back."""
        now = self.env._now
        if slot is not None:
            self.team_of[i].give_back(slot, now)
            self.records.slot_release_day[i] = now
        self.records.exit_day[i] = now

    # ------------------------------------------------------------------ work

    def _serve(self, pool: Pool, i: int, hours: float, columns: tuple[list, list], handoff_days: float = 0.0):
        """Queue for ``pool`` (FIFO) and work ``hours`` of effort; records queue and start in
        ``columns`` (the stage's queue and start columns). A package flagging immediate risk
        is taken at once by whoever is on duty. A case handed to another unit reaches its
        queue ``handoff_days`` later."""
        env = self.env
        queued, started = columns
        queued[i] = env._now
        if handoff_days > 0:
            self.records.handoff_days[i] += handoff_days
            yield env.timeout(handoff_days)
        if hours <= 0:
            started[i] = env._now
            return
        urgent = self.urgent[i]
        request = None
        if not urgent:
            request = pool.res.request(0)
            if request.callbacks is not None:  # else granted and processed already (see _hands_on)
                yield request
        start_day = env._now
        end_day = self._work(pool, start_day, hours, urgent)
        started[i] = start_day
        done = env.timeout(end_day - start_day)
        step_callbacks = done.callbacks  # where the release may leave its work (PriorityResource.release)
        yield done
        if request is not None:
            pool.res.release(request, step_callbacks)

    def _work_end(self, start_day: float, hours: float, round_the_clock: bool, pace: float,
                  hours_factor: float) -> tuple[float, float]:
        """When ``hours`` of effort started at ``start_day`` are done (day), and the staff hours
        it takes. Effort is spread over office hours, the staff's availability
        (``hours_factor`` contracted hours an hour of effort) and the pool's pace (learners,
        courses), or, for the most urgent cases, worked straight through by several people
        at once."""
        if round_the_clock:
            return start_day + hours * self.urgent_days_per_hour, hours
        contracted = hours * hours_factor * pace
        return self.cal.add_work_hours(start_day, contracted), contracted

    def _work(self, pool: Pool, start_day: float, hours: float, round_the_clock: bool) -> float:
        """Book ``hours`` of effort started at ``start_day`` on ``pool``; returns when it is done
        (day). ``_work_end`` written out, as every task calls this."""
        if round_the_clock:
            end_day, staff_hours = start_day + hours * self.urgent_days_per_hour, hours
        else:
            staff_hours = hours * pool.hours_factor * pool.pace
            end_day = self.add_work_hours(start_day, staff_hours)
        if pool.start_day <= start_day and end_day <= pool.end_day:  # Pool.add_busy's usual case, written out
            pool.busy_hours += staff_hours
        else:
            pool.add_busy(start_day, end_day, staff_hours)
        return end_day

    def _hands_on(self, i: int, hours: float, started: list | None = None):
        """An investigator's hands-on work on case ``i``, by its grade's priority (under either
        allocation rule: the rule chooses which cases an investigator takes on, not the order
        of work on those held); the time it starts (day) is written to ``started[i]`` as soon
        as it is known."""
        env = self.env
        if hours <= 0:
            if started is not None:
                started[i] = env._now
            return
        investigators = self.team_of[i].pool
        grade = self.grade[i]
        urgent = self.round_the_clock[grade]
        request = None
        if not urgent:  # urgent work is picked up at once (on call, overtime)
            request = investigators.res.request(priority=grade)
            # A request granted at once is marked processed (PriorityResource.request):
            # yielding it would only have SimPy send it straight back, so it is not yielded.
            if request.callbacks is not None:
                self.waiting[i] = (investigators.res, request)  # where a review finds it to move it up
                yield request
                del self.waiting[i]
        start_day = env._now
        if started is not None:
            started[i] = start_day
        end_day = self._work(investigators, start_day, hours, urgent)
        done = env.timeout(end_day - start_day)
        step_callbacks = done.callbacks  # where the release may leave its work (PriorityResource.release)
        yield done
        if request is not None:
            investigators.res.release(request, step_callbacks)

    def _enter(self, i: int, stage: int) -> None:
        self.wip.counts[stage][self.grade[i]] += 1
        self.stage_of[i] = stage

    def _leave(self, i: int, stage: int) -> None:
        self.wip.counts[stage][self.grade[i]] -= 1

    def _exit(self, i: int, outcome: int) -> None:
        self.records.outcome[i] = outcome
        self.records.exit_day[i] = self.env._now


def _tuples(column) -> tuple:
    """A drawn column (numpy, [case] or [case, attempt]) as a tuple, or a tuple of tuples
    [attempt][case]."""
    if column.ndim == 1:
        return tuple(column.tolist())
    return tuple(tuple(row) for row in column.T.tolist())
