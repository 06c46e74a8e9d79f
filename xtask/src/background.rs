//! Async servers for the synchronous command-line code and tests.

use std::thread::JoinHandle;

/// Servers running on a thread (and runtime) of their own, stopped on drop:
/// the command-line code around them is synchronous.
pub struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    pub fn spawn<F, Fut>(serve: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: std::future::Future,
    {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            crate::block_on(async move {
                tokio::select! {
                    _ = serve() => {}
                    _ = stopped => {}
                }
            })
        });
        Self {
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
