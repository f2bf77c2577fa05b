//! What happens to the fake's containers behind the supervisor's back:
//! crashes, health verdicts and `docker rm -f`, seen or unseen by the
//! events stream.

use super::FakeEngine;
use crate::engine::{ContainerEventKind, EngineState, Health};

impl FakeEngine {
    /// Makes a running container exit with `exit_code`, as a crash would.
    pub fn crash(&self, name: &str, exit_code: i64) {
        let mut state = self.state.lock().unwrap();
        if let Some(c) = state.containers.get_mut(name)
            && c.state == EngineState::Running
        {
            self.exit(c, exit_code);
        }
    }

    /// Gives a running container's check a verdict; a change is a
    /// `health_status` event, as the engine emits only changes.
    pub fn set_health(&self, name: &str, health: Health) {
        let mut state = self.state.lock().unwrap();
        if let Some(c) = state.containers.get_mut(name)
            && c.state == EngineState::Running
            && c.health != Some(health)
        {
            c.health = Some(health);
            self.emit(c, ContainerEventKind::HealthChanged(health));
        }
    }

    /// Gives a running container's check a verdict while no events stream
    /// is open: only a list call shows it.
    pub fn set_health_unseen(&self, name: &str, health: Health) {
        let mut state = self.state.lock().unwrap();
        if let Some(c) = state.containers.get_mut(name)
            && c.state == EngineState::Running
        {
            c.health = Some(health);
        }
    }

    /// Makes a running container exit with `exit_code` while no events
    /// stream is open: the exit is only visible to a list call.
    pub fn crash_unseen(&self, name: &str, exit_code: i64) {
        let mut state = self.state.lock().unwrap();
        if let Some(c) = state.containers.get_mut(name) {
            c.state = EngineState::Exited;
            c.exit_code = Some(exit_code);
        }
    }

    /// Removes a container as `docker rm -f` would, behind the supervisor's back.
    pub fn remove_behind_back(&self, name: &str) {
        let mut state = self.state.lock().unwrap();
        if let Some(mut container) = state.containers.remove(name) {
            if container.state == EngineState::Running {
                self.exit(&mut container, 137);
            }
            self.emit(&container, ContainerEventKind::Destroyed);
        }
    }
}
