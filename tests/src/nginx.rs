//! nginx as a real upstream, for tests that must show what a normalising
//! server makes of what the gateway forwards. Runs in the foreground under the
//! test (no daemon, no master process), from a directory of its own, and is
//! killed when the handle drops. `bash .ci/run` installs Debian's nginx-light.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Nginx {
    pub addr: std::net::SocketAddr,
    pub dir: PathBuf,
    child: Child,
}

impl Nginx {
    /// Starts nginx with `server` (the inside of a `server { … }` block, without
    /// `listen`) on a free loopback port, and waits until it accepts connections.
    pub async fn start(server: &str) -> Nginx {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("nginx is needed for this test: `apt-get install nginx-light` (bash .ci/run installs it)");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = std::env::temp_dir().join(format!("steward-nginx-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("nginx's directory");
        let d = dir.display();
        let config = format!(
            "daemon off; master_process off; worker_processes 1;
             pid {d}/nginx.pid; error_log {d}/error.log warn;
             events {{ worker_connections 256; }}
             http {{
               access_log {d}/access.log;
               client_body_temp_path {d}; proxy_temp_path {d}; fastcgi_temp_path {d};
               uwsgi_temp_path {d}; scgi_temp_path {d};
               server {{ listen 127.0.0.1:{port}; {server} }}
             }}"
        );
        std::fs::write(dir.join("nginx.conf"), config).expect("nginx's configuration");
        let child = Command::new(binary)
            .args([
                "-p",
                &d.to_string(),
                "-c",
                &format!("{d}/nginx.conf"),
                "-e",
                &format!("{d}/error.log"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx starts");
        // Owned from here, so that it is stopped however the test ends.
        let nginx = Nginx {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            child,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(nginx.addr).await.is_ok() {
                return nginx;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "nginx did not start: {}",
            std::fs::read_to_string(nginx.dir.join("error.log")).unwrap_or_default()
        );
    }

    /// The request lines nginx has logged so far.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split('"').nth(1).map(str::to_string))
            .collect()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
