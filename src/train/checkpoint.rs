//! Checkpoints of a training run: a `NAME.train/` folder holding the weights, the optimizer
//! state, the run's settings and how far it got, plus the loss log.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::{BurnpackStore, ModuleSnapshot};

use crate::error::{Error, Result};

/// Paths of one run's checkpoint files.
#[derive(Debug, Clone)]
pub struct CheckpointDir {
    dir: PathBuf,
}

impl CheckpointDir {
    /// The checkpoint folder that belongs to the model file `model_path`
    /// (`models/x.bpk` -> `models/x.train/`).
    pub fn for_model(model_path: &Path) -> Self {
        Self { dir: model_path.with_extension("train") }
    }

    /// The folder itself.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Weights of the last checkpoint.
    pub fn weights(&self) -> PathBuf {
        self.dir.join("model.bpk")
    }

    /// Optimizer state of the last checkpoint.
    pub fn optimizer(&self) -> PathBuf {
        self.dir.join("optimizer.bpk")
    }

    /// Settings and progress of the run (JSON).
    pub fn state(&self) -> PathBuf {
        self.dir.join("state.json")
    }

    /// The loss log (CSV), appended to across resumed runs.
    pub fn log(&self) -> PathBuf {
        self.dir.join("loss.csv")
    }

    /// Whether a checkpoint exists to resume from.
    pub fn exists(&self) -> bool {
        self.state().is_file() && self.weights().is_file()
    }

    /// Refuses to start a new run where a checkpoint already is (`--resume` continues it).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when a checkpoint exists.
    pub fn refuse_existing(&self) -> Result<()> {
        if self.exists() {
            return Err(Error::InvalidArgument(format!("a checkpoint already exists in {}: pass --resume to continue it, or remove it", self.dir.display())));
        }
        Ok(())
    }

    /// `optimizer` with the state of the checkpoint (`--resume`).
    ///
    /// # Errors
    /// [`Error::Model`] when the state cannot be read.
    pub fn load_optimizer(&self, optimizer: ModuleOptimizer) -> Result<ModuleOptimizer> {
        optimizer.load(self.optimizer()).map_err(|e| Error::Model(format!("loading optimizer state: {e:?}")))
    }

    /// Creates the folder.
    ///
    /// # Errors
    /// [`Error::Io`] when it cannot be created.
    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))
    }

    /// The settings saved with the checkpoint: the run's configuration with its step
    /// (`--resume`, `--export-only`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when there is no checkpoint, [`Error::Model`] when its
    /// settings cannot be read.
    pub fn load_state<C: burn::config::Config>(&self) -> Result<C> {
        if !self.exists() {
            return Err(Error::InvalidArgument(format!("no checkpoint in {}", self.dir.display())));
        }
        C::load(self.state()).map_err(|e| Error::Model(format!("reading {}: {e}", self.state().display())))
    }

    /// Saves a run at a checkpoint: weights and optimizer state (see [`CheckpointDir::save`])
    /// and the run's configuration with its step.
    ///
    /// # Errors
    /// As [`CheckpointDir::save`], and [`Error::Io`] for the settings.
    pub fn save_run<M: Module, C: burn::config::Config>(&self, model: &M, optimizer: &ModuleOptimizer, config: &C) -> Result<()> {
        self.save(model, optimizer)?;
        config.save(self.state()).map_err(|e| Error::io(&self.state(), e))
    }

    /// Saves weights and optimizer state (each written to a temporary file, then renamed).
    ///
    /// # Errors
    /// [`Error::Model`] when burn cannot write them, [`Error::Io`] on rename failure.
    pub fn save<M: Module>(&self, model: &M, optimizer: &ModuleOptimizer) -> Result<()> {
        let tmp = self.dir.join("model.bpk.tmp");
        save_weights(model, &tmp)?;
        std::fs::rename(&tmp, self.weights()).map_err(|e| Error::io(&tmp, e))?;
        let tmp = self.dir.join("optimizer.bpk.tmp");
        optimizer.save(&tmp).map_err(|e| Error::Model(format!("saving optimizer: {e:?}")))?;
        std::fs::rename(&tmp, self.optimizer()).map_err(|e| Error::io(&tmp, e))
    }
}

/// Writes a module's weights as a burnpack file at `path` (replacing it).
///
/// # Errors
/// [`Error::Model`] when burn cannot write the file.
pub fn save_weights<M: Module>(model: &M, path: &Path) -> Result<()> {
    let mut store = BurnpackStore::from_file(path).auto_extension(false).overwrite(true);
    model.save_into(&mut store).map_err(|e| Error::Model(format!("saving {}: {e:?}", path.display())))
}

/// Loads weights from a burnpack file into `model`.
///
/// # Errors
/// [`Error::Model`] when the file is missing or does not fit the model.
pub fn load_weights<M: Module>(mut model: M, path: &Path) -> Result<M> {
    let mut store = BurnpackStore::from_file(path).auto_extension(false);
    model.load_from(&mut store).map_err(|e| Error::Model(format!("loading {}: {e:?}", path.display())))?;
    Ok(model)
}
