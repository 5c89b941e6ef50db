//! The runner behind `main.rs`: the command line, the progress bar and the tasks.

use etd_lab::method::Method;
use etd_lab::plot::plot_all;
use etd_lab::reference::{check_blr_reference, make_reference};
use etd_lab::report::{markdown, Report};
use etd_lab::results;
use etd_lab::run::{plan, run_target, Event, Options};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use std::process::ExitCode;

/// What the command line asks for.
enum Task {
    /// Run the plan and write its outputs to the directory.
    Run(PathBuf),
    /// Build `results.md` in the second directory (`docs/`) from these run directories.
    Results(Vec<PathBuf>, PathBuf),
    /// Regenerate `data/reference/`.
    MakeReference,
    /// Check the BLR reference.
    CheckReference,
}

/// Parses the arguments into the runner's options and the task.
fn parse(args: &[String]) -> Result<(Options, Task), String> {
    let mut options = Options::default();
    let mut task = Task::Run(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../target/paper"
    )));
    let list = |v: &str| v.split(',').map(str::to_string).collect::<Vec<_>>();
    let number = |v: String| v.parse().map_err(|e| format!("{v:?}: {e}"));
    let mut docs = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--target" | "--targets" => options.targets = Some(list(&value()?)),
            "--methods" => {
                let methods: Result<Vec<_>, _> =
                    list(&value()?).iter().map(|m| Method::parse(m)).collect();
                options.methods = Some(methods?);
            }
            "--seeds" => options.seeds = Some(number(value()?)?),
            "--iterations" => options.iterations = Some(number(value()?)? as usize),
            "--proposals" => options.proposals = Some(number(value()?)? as usize),
            "--mutation-step" => {
                options.mutation_step = Some(value()?.parse().map_err(|e| format!("{arg}: {e}"))?)
            }
            "--out" => task = Task::Run(PathBuf::from(value()?)),
            "--quick" => options.quick = true,
            "--results" => {
                let dirs = list(&value()?).into_iter().map(Into::into).collect();
                task = Task::Results(dirs, results::docs_dir())
            }
            "--docs" => docs = Some(PathBuf::from(value()?)),
            "--make-reference" => task = Task::MakeReference,
            "--check-reference" => task = Task::CheckReference,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if let Some(dir) = docs {
        match &mut task {
            Task::Results(_, docs) => *docs = dir,
            _ => return Err("--docs only applies with --results".to_string()),
        }
    }
    Ok((options, task))
}

/// A progress bar fed by the runner's events.
fn progress_bar() -> (ProgressBar, impl FnMut(Event)) {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} iterations, eta {eta} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let handle = bar.clone();
    let callback = move |event: Event| match event {
        Event::Planned(total) => handle.set_length(total),
        Event::Run {
            target,
            method,
            seed,
        } => handle.set_message(format!("{target} / {} / seed {seed}", method.name())),
        Event::Advanced(n) => handle.inc(n),
    };
    (bar, callback)
}

/// Parses the command line and runs its task.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = format!(
        "cargo run --release -p etd-lab --bin paper -- {}",
        args.join(" ")
    );
    let result = parse(&args).and_then(|(options, task)| {
        let (bar, mut callback) = progress_bar();
        let out = match task {
            Task::Run(dir) => run_all(&options, &dir, &command, &bar, &mut callback),
            Task::Results(dirs, docs) => results::write(&dirs, &command, &docs)
                .map(|path| format!("wrote {}", path.display())),
            Task::MakeReference => {
                make_reference(&options.data_dir, &mut callback).map(|()| String::new())
            }
            Task::CheckReference => check_blr_reference(&options.data_dir, &mut callback),
        };
        bar.finish_and_clear();
        out
    });
    match result {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the plan one target at a time, rewriting the outputs in `dir` after each target;
/// returns the markdown table.
fn run_all(
    options: &Options,
    dir: &std::path::Path,
    command: &str,
    bar: &ProgressBar,
    callback: &mut impl FnMut(Event),
) -> Result<String, String> {
    let plan = plan(options)?;
    let total: usize = plan.iter().map(|p| p.methods.len() * p.iterations).sum();
    bar.set_length(total as u64 * options.seed_count());
    let mut report = Report {
        command: command.to_string(),
        ..Report::default()
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let write = |name: &str, text: String| {
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))
    };
    for planned in &plan {
        report.extend(run_target(planned, options, callback)?);
        write("results.json", report.to_json())?;
        write(
            "results.md",
            format!("`{command}`\n\n{}", markdown(&report.rows)),
        )?;
        plot_all(&report, &options.data_dir, dir)?;
        bar.println(format!("{} done", planned.spec.name));
    }
    Ok(format!(
        "{}\nwrote {}",
        markdown(&report.rows),
        dir.display()
    ))
}
