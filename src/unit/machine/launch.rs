//! Bringing a container up as a sequence of single engine calls: remove the
//! one it replaces, create (pulling the image once, or first with
//! `pull_policy: always`, never with `never`; replacing a stale container
//! once), start. The one replace sequence of the unit.

use super::{AfterStop, Done, Effect, Existing, Goal, Machine, Now, Phase, Resume, Step, Work};
use crate::engine::EngineError;
use crate::gateway::CreateOutcome;
use crate::spec::PullPolicy;
use crate::unit::state::UnitError;

impl Machine {
    /// Starts a launch towards `goal`, doing with an existing container what
    /// `existing` says (no container: one is created).
    pub(super) fn launch(&mut self, goal: Goal, existing: Existing, out: &mut Vec<Effect>) {
        let (step, work) = match (self.container.clone(), existing, goal) {
            (Some(id), Existing::Replace, _) => (
                Step::RemovingOld {
                    id: id.clone(),
                    stale: false,
                },
                Work::Remove(id),
            ),
            (Some(_), Existing::Reuse, Goal::CreateOnly) => {
                self.phase = Phase::StoppedByHand {
                    reason: "stopped by request".into(),
                };
                out.push(Effect::Answer(Ok(())));
                return;
            }
            (Some(id), Existing::Reuse, Goal::Run) => return self.start(id, goal, out),
            // Made in other containers' namespaces: those must exist first.
            (None, _, Goal::Run)
                if self.spec.options.joins_containers() && self.waits_for_deps(out) =>
            {
                return;
            }
            (None, ..) => self.create(false),
        };
        self.phase = Phase::Launching { step, goal };
        out.push(Effect::Engine(work));
    }

    /// The first step towards a new container: its create, or, with
    /// `pull_policy: always`, the pull before it.
    fn create(&self, replaced_stale: bool) -> (Step, Work) {
        match self.spec.options.pull_policy {
            PullPolicy::Always => (Step::Pulling { replaced_stale }, Work::Pull),
            PullPolicy::Missing | PullPolicy::Never => (
                Step::Creating {
                    pulled: false,
                    replaced_stale,
                },
                Work::Create(self.carried()),
            ),
        }
    }

    pub(super) fn on_done(&mut self, done: Done, now: Now, out: &mut Vec<Effect>) {
        match self.phase.clone() {
            Phase::Launching { step, goal } => self.launch_step(step, goal, done, now, out),
            Phase::Stopping { then, .. } => match done {
                Done::Stopped(Ok(())) => {
                    // The kill, die and stop events of this stop come after
                    // its answer; they are ours, not news.
                    self.started_nanos = self.step_nanos;
                    self.after_stop(then, now, out)
                }
                Done::Stopped(Err(error)) => self.call_failed(error, resume_of(&then), out),
                _ => {}
            },
            Phase::Removing => match done {
                Done::Removed(Ok(())) => {
                    self.container = None;
                    self.phase = Phase::Removed;
                    out.push(Effect::Answer(Ok(())));
                    out.push(Effect::End);
                }
                Done::Removed(Err(error)) => self.call_failed(error, Resume::Remove, out),
                _ => {}
            },
            // No call is in flight in any other phase.
            _ => {}
        }
    }

    fn launch_step(&mut self, step: Step, goal: Goal, done: Done, now: Now, out: &mut Vec<Effect>) {
        let resume = Resume::Launch(goal);
        match (step, done) {
            (Step::RemovingOld { stale, .. }, Done::Removed(Ok(()))) => {
                self.container = None;
                let (step, work) = self.create(stale);
                self.phase = Phase::Launching { step, goal };
                out.push(Effect::Engine(work));
            }
            (
                Step::Creating {
                    pulled,
                    replaced_stale,
                },
                Done::Created(created),
            ) => match created {
                Ok(CreateOutcome::Created(id) | CreateOutcome::Adopted(id)) => {
                    self.container = Some(id.clone());
                    self.started_nanos = 0;
                    match goal {
                        Goal::Run => self.start(id, goal, out),
                        Goal::CreateOnly => {
                            self.phase = Phase::StoppedByHand {
                                reason: "created; stopped by request".into(),
                            };
                            out.push(Effect::Answer(Ok(())));
                        }
                    }
                }
                Ok(CreateOutcome::Stale(id)) if !replaced_stale => {
                    // An older container of this unit that was not cleaned up.
                    self.phase = Phase::Launching {
                        step: Step::RemovingOld {
                            id: id.clone(),
                            stale: true,
                        },
                        goal,
                    };
                    out.push(Effect::Engine(Work::Remove(id)));
                }
                Ok(CreateOutcome::Stale(id)) => {
                    let message = format!(
                        "container {id} keeps taking the name of unit {}",
                        self.spec.name
                    );
                    self.fail(UnitError::Engine(EngineError::Conflict(message)), out);
                }
                Ok(CreateOutcome::Foreign(_)) => {
                    self.fail(UnitError::NameTaken(self.container_name.clone()), out);
                }
                Err(UnitError::Engine(EngineError::ImageNotFound(image)))
                    if self.spec.options.pull_policy == PullPolicy::Never =>
                {
                    let missing = format!("{image} (pull_policy is never)");
                    self.fail(UnitError::Engine(EngineError::ImageNotFound(missing)), out);
                }
                Err(UnitError::Engine(EngineError::ImageNotFound(_))) if !pulled => {
                    self.phase = Phase::Launching {
                        step: Step::Pulling { replaced_stale },
                        goal,
                    };
                    out.push(Effect::Engine(Work::Pull));
                }
                Err(error) => self.call_failed(error, resume, out),
            },
            (Step::Pulling { replaced_stale }, Done::Pulled(pulled)) => match pulled {
                Ok(()) => {
                    self.phase = Phase::Launching {
                        step: Step::Creating {
                            pulled: true,
                            replaced_stale,
                        },
                        goal,
                    };
                    out.push(Effect::Engine(Work::Create(self.carried())));
                }
                Err(error) => self.call_failed(error, resume, out),
            },
            (Step::Starting(id), Done::Started(started)) => match started {
                Ok(()) => {
                    // Anything the engine says of this container from now
                    // on is about this run; older events are not.
                    self.started_nanos = self.start_asked_nanos;
                    self.enter_running(id, now, None);
                    out.push(Effect::Answer(Ok(())));
                }
                Err(error) => self.call_failed(error, resume, out),
            },
            (_, Done::Removed(Err(error))) => self.call_failed(error, resume, out),
            // An answer that does not belong to the step in flight cannot
            // come (one call at a time); ignore it rather than guess.
            _ => {}
        }
    }

    /// What follows our own stop.
    pub(super) fn after_stop(&mut self, then: AfterStop, now: Now, out: &mut Vec<Effect>) {
        match then {
            AfterStop::ByHand => {
                self.phase = Phase::StoppedByHand {
                    reason: "stopped by request".into(),
                };
                out.push(Effect::Answer(Ok(())));
            }
            AfterStop::Shutdown => {
                self.phase = Phase::StoppedByShutdown;
                out.push(Effect::Answer(Ok(())));
            }
            AfterStop::Restart => {
                self.history.reset();
                self.launch(Goal::Run, Existing::Reuse, out);
            }
            AfterStop::Replace => self.launch(Goal::Run, Existing::Replace, out),
            AfterStop::Remove => self.remove(out),
            AfterStop::Unhealthy(verdict) => self.after_unhealthy_stop(verdict, now, out),
            AfterStop::Relaunch { .. } => self.launch(Goal::Run, Existing::Reuse, out),
        }
    }

    /// Removes the container (if any) and ends the unit.
    pub(super) fn remove(&mut self, out: &mut Vec<Effect>) {
        match self.container.clone() {
            Some(id) => {
                self.phase = Phase::Removing;
                out.push(Effect::Engine(Work::Remove(id)));
            }
            None => {
                self.phase = Phase::Removed;
                out.push(Effect::Answer(Ok(())));
                out.push(Effect::End);
            }
        }
    }

    /// An engine call failed: an engine that does not answer is waited for
    /// (never a unit failure); anything else fails the unit.
    pub(super) fn call_failed(&mut self, error: UnitError, resume: Resume, out: &mut Vec<Effect>) {
        if error.is_engine_unavailable() {
            self.phase = Phase::WaitingForEngine {
                then: resume,
                error: error.to_string(),
            };
            out.push(Effect::Arm(super::Timer::EngineRetry, super::ENGINE_RETRY));
            out.push(Effect::Answer(Err(error)));
        } else {
            self.fail(error, out);
        }
    }

    pub(super) fn fail(&mut self, error: UnitError, out: &mut Vec<Effect>) {
        self.phase = Phase::Failed {
            reason: error.to_string(),
        };
        out.push(Effect::Answer(Err(error)));
    }
}

/// What a stop that could not reach the engine resumes as.
fn resume_of(then: &AfterStop) -> Resume {
    match then {
        AfterStop::ByHand => Resume::StopByHand,
        AfterStop::Shutdown => Resume::Shutdown,
        AfterStop::Remove => Resume::Remove,
        AfterStop::Restart | AfterStop::Unhealthy(_) | AfterStop::Relaunch { .. } => {
            Resume::Launch(Goal::Run)
        }
        AfterStop::Replace => Resume::Replace,
    }
}
