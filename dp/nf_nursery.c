/* SPDX-License-Identifier: BSD-3-Clause */
/* nf_nursery.c - the process that starts, reports and reaps NFs (see nf_nursery.h). */
#define _GNU_SOURCE
#include "nf_nursery.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SPAWN_FD	  3 /* the nursery's ends, moved to fixed numbers */
#define DEATHS_FD	  4
#define MANAGER_STDERR_FD 3 /* in a child, until its exec */
#define REQUEST_MAX	  65536
#define ANSWER_WAIT_MS	  5000
#define SLOW_REAP_MS	  100 /* said in the log: the kernel is slow to let go */

/* A request: its number, then exec path, exec-failure message, log file
 * ("" for none) and the argv strings, each NUL-terminated, back to back.  The answer repeats the
 * number, so one that comes after its spawn gave up is never taken for the next's. */
struct answer {
	uint32_t seq;
	int32_t pid; /* or -errno */
};

static int pack_request(const struct nf_launch *launch, char *buffer, size_t size)
{
	size_t used = 0;
	const char *first[3] = {launch->exec, launch->exec_error, launch->log_path};
	for (int i = 0; i < 3 + NF_ARGV_MAX; i++) {
		const char *text = i < 3 ? first[i] : launch->argv[i - 3];
		if (text == NULL)
			return (int)used;
		size_t length = strlen(text) + 1;
		if (used + length > size)
			return -1;
		memcpy(buffer + used, text, length);
		used += length;
	}
	return -1; /* argv was not NULL-terminated */
}

/* A request's first strings; argv follows them. */
struct request_head {
	const char *exec;
	const char *exec_error;
	const char *log_path;
};
#define REQUEST_HEAD_STRINGS 3

/* The request's strings, in place: 0, or -1 when it is malformed. */
static int unpack_request(char *buffer, size_t length, struct request_head *head, char **argv)
{
	if (length == 0 || buffer[length - 1] != '\0')
		return -1;
	const char **head_strings[REQUEST_HEAD_STRINGS] = {&head->exec, &head->exec_error,
							   &head->log_path};
	unsigned count = 0;
	for (size_t at = 0; at < length; at += strlen(buffer + at) + 1) {
		if (count < REQUEST_HEAD_STRINGS)
			*head_strings[count] = buffer + at;
		else if (count - REQUEST_HEAD_STRINGS < NF_ARGV_MAX - 1)
			argv[count - REQUEST_HEAD_STRINGS] = buffer + at;
		else
			return -1;
		count++;
	}
	if (count < REQUEST_HEAD_STRINGS + 1)
		return -1;
	argv[count - REQUEST_HEAD_STRINGS] = NULL;
	return 0;
}

/* ---- the nursery process ---- */

static pthread_mutex_t children_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t children_born = PTHREAD_COND_INITIALIZER;
static unsigned nb_children;

/* Report each child that ended, then reap it: the reap is what can take the
 * kernel seconds, and only this thread waits for it. */
static void *report_and_reap(void *arg)
{
	(void)arg;
	for (;;) {
		siginfo_t info;
		memset(&info, 0, sizeof(info));
		if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) < 0) {
			if (errno == ECHILD) {
				pthread_mutex_lock(&children_lock);
				while (nb_children == 0)
					pthread_cond_wait(&children_born, &children_lock);
				pthread_mutex_unlock(&children_lock);
			}
			continue;
		}
		struct nf_death death = {
		    .pid = info.si_pid,
		    .how = {.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED,
			    .code = info.si_status},
		};
		if (nf_process_start_time(death.pid, &death.start_time) < 0)
			death.start_time = 0;
		if (send(DEATHS_FD, &death, sizeof(death), MSG_NOSIGNAL) < 0 && errno == EPIPE)
			_exit(0); /* the manager is gone: nobody to tell */
		uint64_t start_ms = onvm_mono_ms();
		waitpid(death.pid, NULL, 0);
		uint64_t took_ms = onvm_mono_ms() - start_ms;
		if (took_ms >= SLOW_REAP_MS)
			fprintf(stderr,
				"onvm-nursery: reaping pid %d took the kernel %" PRIu64 " ms\n",
				(int)death.pid, took_ms);
		pthread_mutex_lock(&children_lock);
		nb_children--;
		pthread_mutex_unlock(&children_lock);
	}
	return NULL;
}

/* In the child: stdout and stderr to the NF's own log file.  A file that
 * cannot be opened leaves them where they were (the NF still runs), and
 * says so there. */
static void redirect_output(const char *log_path)
{
	if (log_path[0] == '\0')
		return;
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		static const char message[] = "onvm-nursery: cannot open the NF's log file\n";
		ssize_t written = write(STDERR_FILENO, message, sizeof(message) - 1);
		(void)written;
		return;
	}
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static pid_t start_child(const struct request_head *head, char **argv)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* Only async-signal-safe calls here: the nursery has two threads. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGINT, SIG_DFL); /* ignored by the nursery, not by NFs */
	/* A failed exec is the manager's to report: its stderr stays at fd 3,
	 * which a successful exec closes. */
	dup3(STDERR_FILENO, MANAGER_STDERR_FD, O_CLOEXEC);
	redirect_output(head->log_path);
	close_range(MANAGER_STDERR_FD + 1, ~0U, 0);
	execv(head->exec, argv);
	ssize_t written = write(MANAGER_STDERR_FD, head->exec_error, strlen(head->exec_error));
	(void)written;
	_exit(127);
}

static void __attribute__((noreturn)) nursery_main(pid_t manager)
{
	prctl(PR_SET_NAME, "onvm-nursery");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != manager)
		_exit(0); /* the manager died before the line above */
	/* A terminal's Ctrl-C reaches the whole group: the manager stops the
	 * NFs, and the nursery must still be there to report them. */
	signal(SIGINT, SIG_IGN);
	pthread_t reaper;
	if (pthread_create(&reaper, NULL, report_and_reap, NULL) != 0)
		_exit(1);
	static char request[REQUEST_MAX];
	for (;;) {
		ssize_t length = recv(SPAWN_FD, request, sizeof(request), 0);
		if (length == 0 || (length < 0 && errno != EINTR))
			_exit(0); /* the manager closed its end, or is gone */
		if (length < (ssize_t)sizeof(uint32_t))
			continue;
		struct request_head head;
		char *argv[NF_ARGV_MAX];
		struct answer answer = {.pid = -EINVAL};
		memcpy(&answer.seq, request, sizeof(answer.seq));
		if (unpack_request(request + sizeof(uint32_t), (size_t)length - sizeof(uint32_t),
				   &head, argv) == 0) {
			pid_t pid = start_child(&head, argv);
			answer.pid = pid < 0 ? -errno : pid;
			if (pid > 0) {
				pthread_mutex_lock(&children_lock);
				nb_children++;
				pthread_cond_signal(&children_born);
				pthread_mutex_unlock(&children_lock);
			}
		}
		if (send(SPAWN_FD, &answer, sizeof(answer), MSG_NOSIGNAL) < 0 && errno == EPIPE)
			_exit(0);
	}
}

/* ---- the manager's side ---- */

int nf_nursery_start(struct nf_nursery *nursery)
{
	int spawn[2], deaths[2];
	*nursery = (struct nf_nursery){.spawn_fd = -1, .deaths_fd = -1};
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, spawn) < 0)
		return -errno;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, deaths) < 0) {
		int error = errno;
		close(spawn[0]);
		close(spawn[1]);
		return -error;
	}
	pid_t manager = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int error = errno;
		close(spawn[0]);
		close(spawn[1]);
		close(deaths[0]);
		close(deaths[1]);
		return -error;
	}
	if (pid == 0) {
		/* Nothing of the manager's but stdio and the nursery's two ends. */
		if (dup2(spawn[1], SPAWN_FD) < 0 || dup2(deaths[1], DEATHS_FD) < 0)
			_exit(1);
		close_range(DEATHS_FD + 1, ~0U, 0);
		nursery_main(manager);
	}
	close(spawn[1]);
	close(deaths[1]);
	fcntl(deaths[0], F_SETFL, fcntl(deaths[0], F_GETFL) | O_NONBLOCK);
	*nursery = (struct nf_nursery){.pid = pid, .spawn_fd = spawn[0], .deaths_fd = deaths[0]};
	return 0;
}

int nf_nursery_spawn(struct nf_nursery *nursery, const struct nf_launch *launch, pid_t *pid,
		     char *err, size_t errlen)
{
	static char request[REQUEST_MAX];
	static uint32_t last_seq;
	uint32_t seq = ++last_seq;
	memcpy(request, &seq, sizeof(seq));
	int length = pack_request(launch, request + sizeof(seq), sizeof(request) - sizeof(seq));
	if (length >= 0)
		length += (int)sizeof(seq);
	if (length < 0) {
		snprintf(err, errlen, "the command line is too long for the nursery");
		return -1;
	}
	if (nursery->spawn_fd < 0 ||
	    send(nursery->spawn_fd, request, (size_t)length, MSG_NOSIGNAL) != length) {
		snprintf(err, errlen, "the nursery is gone: no NF can be started");
		return -1;
	}
	struct answer answer = {0};
	uint64_t deadline = onvm_mono_ms() + ANSWER_WAIT_MS;
	while (answer.seq != seq) { /* older answers are of spawns that gave up */
		uint64_t now = onvm_mono_ms();
		struct pollfd answer_ready = {.fd = nursery->spawn_fd, .events = POLLIN};
		if (now >= deadline || poll(&answer_ready, 1, (int)(deadline - now)) != 1 ||
		    recv(nursery->spawn_fd, &answer, sizeof(answer), 0) !=
			(ssize_t)sizeof(answer)) {
			snprintf(err, errlen, "the nursery did not answer");
			return -1;
		}
	}
	if (answer.pid <= 0) {
		snprintf(err, errlen, "fork failed: %s", strerror(-answer.pid));
		return -1;
	}
	*pid = answer.pid;
	return 0;
}

int nf_nursery_next_death(struct nf_nursery *nursery, struct nf_death *death)
{
	if (nursery->deaths_fd < 0)
		return -1;
	ssize_t got = recv(nursery->deaths_fd, death, sizeof(*death), MSG_DONTWAIT);
	if (got == (ssize_t)sizeof(*death))
		return 1;
	if (got < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1; /* closed, or a short report: the nursery is gone */
}

void nf_nursery_stop(struct nf_nursery *nursery)
{
	if (nursery->spawn_fd >= 0)
		close(nursery->spawn_fd);
	if (nursery->deaths_fd >= 0)
		close(nursery->deaths_fd);
	nursery->spawn_fd = nursery->deaths_fd = -1;
}
