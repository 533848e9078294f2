//! The Windows service: the service manager's side (install, uninstall, start, stop, status)
//! and the service itself (`service run`, started by the service manager).
//!
//! The service reports `StartPending` while it loads, `Running` once the mappings are loaded
//! and the transport starts, and `StopPending` (with the grace period as its wait hint) as soon
//! as the manager asks it to stop or the system shuts down; calls under way then finish within
//! the grace period, as for Ctrl-C in a console.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use windows_service::service::{
    ServiceAccess, ServiceAction, ServiceActionType, ServiceControl, ServiceControlAccept,
    ServiceErrorControl, ServiceExitCode, ServiceFailureActions, ServiceFailureResetPeriod,
    ServiceInfo, ServiceStartType, ServiceState, ServiceStatus, ServiceType,
};
use windows_service::service_control_handler::{self, ServiceControlHandlerResult};
use windows_service::service_manager::{ServiceManager, ServiceManagerAccess};
use windows_service::{define_windows_service, service_dispatcher};

use super::command::{Serve, ServiceCommand};
use super::eventlog;

/// How long `start` and `stop` wait for the service to get there.
const START_WAIT: Duration = Duration::from_secs(60);
const STOP_WAIT: Duration = Duration::from_secs(120);

pub fn run(cmd: ServiceCommand, serve: Serve) -> ExitCode {
    let result = match cmd {
        ServiceCommand::Install {
            config,
            name,
            account,
        } => install(&config, &name, account),
        ServiceCommand::Uninstall { name } => uninstall(&name),
        ServiceCommand::Start { name } => start(&name),
        ServiceCommand::Stop { name } => stop(&name),
        ServiceCommand::Status { name } => status(&name),
        ServiceCommand::Run { config, name } => dispatch(config, name, serve),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn manager(access: ServiceManagerAccess) -> Result<ServiceManager, String> {
    ServiceManager::local_computer(None::<&str>, access).map_err(|e| {
        format!("cannot open the service manager: {e} (run this from an administrator prompt)")
    })
}

/// `C:\x` rather than `\\?\C:\x`: the service manager and people read it.
fn plain(p: PathBuf) -> PathBuf {
    let s = p.to_string_lossy();
    match s.strip_prefix(r"\\?\") {
        Some(rest) if !rest.starts_with("UNC") => PathBuf::from(rest),
        _ => p,
    }
}

fn install(config: &Path, name: &str, account: Option<String>) -> Result<(), String> {
    let config = std::fs::canonicalize(config)
        .map(plain)
        .map_err(|e| format!("settings file {}: {e}", config.display()))?;
    check_loads(&config)?;
    let exe = std::env::current_exe()
        .map(plain)
        .map_err(|e| format!("cannot find this program's path: {e}"))?;
    let account = account.unwrap_or_else(|| format!(r"NT SERVICE\{name}"));
    let password = std::env::var_os("LEGACY_MCP_SERVICE_PASSWORD");
    let info = ServiceInfo {
        name: OsString::from(name),
        display_name: OsString::from(format!("{name} (MCP endpoint for the ERP)")),
        service_type: ServiceType::OWN_PROCESS,
        start_type: ServiceStartType::AutoStart,
        error_control: ServiceErrorControl::Normal,
        executable_path: exe.clone(),
        launch_arguments: ["service", "run", "--config"]
            .iter()
            .map(OsString::from)
            .chain([config.clone().into_os_string()])
            .chain(["--name", name].iter().map(OsString::from))
            .collect(),
        dependencies: vec![],
        account_name: Some(OsString::from(&account)),
        account_password: password,
    };
    let m = manager(ServiceManagerAccess::CONNECT | ServiceManagerAccess::CREATE_SERVICE)?;
    let service = m
        .create_service(
            &info,
            ServiceAccess::CHANGE_CONFIG | ServiceAccess::START | ServiceAccess::QUERY_STATUS,
        )
        .map_err(|e| format!("cannot create the service {name}: {e}"))?;
    let _ = service.set_description(
        "A standard MCP endpoint in front of the ERP (legacy-mcp). Settings: ".to_string()
            + &config.display().to_string(),
    );
    // Restart after 5 s, again after 5 s, then after 30 s; forget failures after a day. A
    // non-zero exit (a bad settings file, a port in use) counts as a failure too.
    let restart = |s| ServiceAction {
        action_type: ServiceActionType::Restart,
        delay: Duration::from_secs(s),
    };
    let recovery = service
        .update_failure_actions(ServiceFailureActions {
            reset_period: ServiceFailureResetPeriod::After(Duration::from_secs(86_400)),
            reboot_msg: None,
            command: None,
            actions: Some(vec![restart(5), restart(5), restart(30)]),
        })
        .and_then(|()| service.set_failure_actions_on_non_crash_failures(true));
    if let Err(e) = recovery {
        eprintln!("warning: restart-on-failure could not be set: {e}");
    }
    eventlog::register_source(name)?;
    println!(
        "installed service {name}\n  program:  {}\n  settings: {}\n  account:  {account}\n\
         start it with: legacy-mcp service start --name {name}",
        exe.display(),
        config.display()
    );
    Ok(())
}

/// The settings and the mappings they name load, as the service will load them.
fn check_loads(config: &Path) -> Result<(), String> {
    let settings = crate::settings::Settings::load(Some(config))?;
    let dir = settings
        .mappings
        .as_ref()
        .map(|m| settings.path(m))
        .unwrap_or_else(|| settings.path(Path::new("mappings/demo")));
    crate::catalog::load(&dir).map(|_| ()).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        format!(
            "the mappings in {} do not load; fix them and install again:\n{}",
            dir.display(),
            list.join("\n")
        )
    })
}

fn open(name: &str, access: ServiceAccess) -> Result<windows_service::service::Service, String> {
    manager(ServiceManagerAccess::CONNECT)?
        .open_service(name, access)
        .map_err(|e| format!("cannot open the service {name}: {e} (is it installed?)"))
}

/// Poll until the service reaches `want`, it stops on its own, or `wait` passes.
fn wait_for(
    service: &windows_service::service::Service,
    want: ServiceState,
    wait: Duration,
) -> Result<ServiceStatus, String> {
    let until = Instant::now() + wait;
    loop {
        let s = service
            .query_status()
            .map_err(|e| format!("cannot query the service: {e}"))?;
        if s.current_state == want || s.current_state == ServiceState::Stopped {
            return Ok(s);
        }
        if Instant::now() > until {
            return Err(format!(
                "the service is still {:?} after {}s",
                s.current_state,
                wait.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn start(name: &str) -> Result<(), String> {
    let service = open(name, ServiceAccess::START | ServiceAccess::QUERY_STATUS)?;
    service
        .start::<&OsStr>(&[])
        .map_err(|e| format!("cannot start the service {name}: {e}"))?;
    let s = wait_for(&service, ServiceState::Running, START_WAIT)?;
    if s.current_state == ServiceState::Running {
        println!("service {name} is running");
        Ok(())
    } else {
        Err(format!(
            "the service {name} stopped while starting ({:?}); the Event Log and the log file say why",
            s.exit_code
        ))
    }
}

fn stop(name: &str) -> Result<(), String> {
    let service = open(name, ServiceAccess::STOP | ServiceAccess::QUERY_STATUS)?;
    match stop_and_wait(&service, name)? {
        ServiceExitCode::NO_ERROR => {
            println!("service {name} has stopped");
            Ok(())
        }
        code => Err(format!(
            "the service {name} stopped after an error ({code:?}); the log file and the Event Log say why"
        )),
    }
}

/// Stop the service if it runs; its exit code once stopped.
fn stop_and_wait(
    service: &windows_service::service::Service,
    name: &str,
) -> Result<ServiceExitCode, String> {
    let now = service
        .query_status()
        .map_err(|e| format!("cannot query the service {name}: {e}"))?;
    if now.current_state == ServiceState::Stopped {
        return Ok(now.exit_code);
    }
    if now.current_state != ServiceState::StopPending {
        service
            .stop()
            .map_err(|e| format!("cannot stop the service {name}: {e}"))?;
    }
    wait_for(service, ServiceState::Stopped, STOP_WAIT).map(|s| s.exit_code)
}

fn uninstall(name: &str) -> Result<(), String> {
    let service = open(
        name,
        ServiceAccess::STOP | ServiceAccess::QUERY_STATUS | ServiceAccess::DELETE,
    )?;
    stop_and_wait(&service, name)?;
    service
        .delete()
        .map_err(|e| format!("cannot remove the service {name}: {e}"))?;
    eventlog::unregister_source(name)?;
    println!("removed service {name}");
    Ok(())
}

fn status(name: &str) -> Result<(), String> {
    let service = open(name, ServiceAccess::QUERY_STATUS)?;
    let s = service
        .query_status()
        .map_err(|e| format!("cannot query the service {name}: {e}"))?;
    println!("{name}: {:?}", s.current_state);
    Ok(())
}

/// The settings file and name given to `service run`, for `service_main`.
static ARGS: OnceLock<(PathBuf, String, Serve)> = OnceLock::new();

define_windows_service!(ffi_service_main, service_main);

/// Hand this thread to the service manager; it calls `service_main` on another one.
fn dispatch(config: PathBuf, name: String, serve: Serve) -> Result<(), String> {
    let _ = ARGS.set((config, name.clone(), serve));
    service_dispatcher::start(&name, ffi_service_main).map_err(|e| {
        format!(
            "`service run` is started by the service manager ({e}); in a console, run \
             `legacy-mcp serve --config FILE`"
        )
    })
}

fn service_main(_arguments: Vec<OsString>) {
    let Some((config, name, serve)) = ARGS.get().cloned() else {
        return;
    };
    let failed = run_service(&config, &name, serve).err();
    if let (Some(e), Ok(source)) = (failed, eventlog::Source::open(&name)) {
        source.error(&format!("the service could not report its state: {e}"));
    }
}

fn pending(state: ServiceState, checkpoint: u32, wait: Duration) -> ServiceStatus {
    ServiceStatus {
        service_type: ServiceType::OWN_PROCESS,
        current_state: state,
        controls_accepted: ServiceControlAccept::empty(),
        exit_code: ServiceExitCode::NO_ERROR,
        checkpoint,
        wait_hint: wait,
        process_id: None,
    }
}

fn run_service(config: &Path, name: &str, serve: Serve) -> windows_service::Result<()> {
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    let handle = service_control_handler::register(name, move |control| match control {
        ServiceControl::Stop | ServiceControl::Shutdown | ServiceControl::Preshutdown => {
            stop.cancel();
            ServiceControlHandlerResult::NoError
        }
        ServiceControl::Interrogate => ServiceControlHandlerResult::NoError,
        _ => ServiceControlHandlerResult::NotImplemented,
    })?;
    handle.set_service_status(pending(
        ServiceState::StartPending,
        1,
        Duration::from_secs(30),
    ))?;
    let running = move || {
        let _ = handle.set_service_status(ServiceStatus {
            controls_accepted: ServiceControlAccept::STOP | ServiceControlAccept::SHUTDOWN,
            ..pending(ServiceState::Running, 0, Duration::ZERO)
        });
    };
    let stopping = move |grace: Duration| {
        let _ = handle.set_service_status(pending(
            ServiceState::StopPending,
            1,
            grace + Duration::from_secs(5),
        ));
    };
    let ok = serve(
        config,
        name,
        shutdown,
        Box::new(running),
        Box::new(stopping),
    );
    handle.set_service_status(ServiceStatus {
        exit_code: if ok {
            ServiceExitCode::NO_ERROR
        } else {
            ServiceExitCode::ServiceSpecific(1)
        },
        ..pending(ServiceState::Stopped, 0, Duration::ZERO)
    })
}
