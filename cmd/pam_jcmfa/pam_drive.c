/*
 * pam_drive: one pam_authenticate through the real libpam with a private
 * config dir, so the module can run under valgrind (or by hand) without
 * touching /etc/pam.d:
 *
 *   pam_drive CONFDIR SERVICE USER [ANSWER...]
 *
 * Each prompt gets the next ANSWER (none left: the conversation fails, as a
 * disconnected client would). Messages go to stdout as "info: ..." and
 * "error: ...", then "result: <pam_strerror>", and the exit status is the PAM
 * return code, so a script can tell PAM_IGNORE from PAM_SUCCESS.
 */
#define _DEFAULT_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

struct answers {
	char **argv;
	int argc, next;
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct answers *a = data;
	struct pam_response *r;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof *r);
	if (r == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_TEXT_INFO:
			printf("info: %s\n", msg[i]->msg);
			break;
		case PAM_ERROR_MSG:
			printf("error: %s\n", msg[i]->msg);
			break;
		case PAM_PROMPT_ECHO_ON:
		case PAM_PROMPT_ECHO_OFF:
			printf("prompt: %s\n", msg[i]->msg);
			if (a->next >= a->argc)
				goto fail;
			r[i].resp = strdup(a->argv[a->next++]);
			if (r[i].resp == NULL)
				goto fail;
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

int main(int argc, char **argv)
{
	struct answers a;
	struct pam_conv c;
	pam_handle_t *pamh = NULL;
	int rc;

	if (argc < 4) {
		fprintf(stderr, "usage: pam_drive CONFDIR SERVICE USER [ANSWER...]\n");
		return 255;
	}
	a.argv = argv + 4;
	a.argc = argc - 4;
	a.next = 0;
	c.conv = conv;
	c.appdata_ptr = &a;
	rc = pam_start_confdir(argv[2], argv[3], &c, argv[1], &pamh);
	if (rc != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %s\n", pam_strerror(pamh, rc));
		return 254;
	}
	rc = pam_authenticate(pamh, 0);
	printf("result: %s\n", pam_strerror(pamh, rc));
	fflush(stdout);
	pam_end(pamh, rc);
	return rc;
}
