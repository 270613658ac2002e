/* nss.c — getpwuid_r / getpwnam_r / getgrnam_r / getgrgid_r / getgrouplist with growing buffers. Node has
 * os.userInfo() for the current user only, and no group list at all. */
#include "nss.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "args.h"
#include "errors.h"

/* NSS answers larger than this are refused rather than chased. */
#define PW_BUF_MAX (1u << 20)
/* The kernel's NGROUPS_MAX, plus the primary group. */
#define GROUPS_MAX (65536 + 1)
/* Login names: generous, still bounded. */
#define NAME_MAX_BYTES 256

static napi_value set_string(napi_env env, napi_value obj, const char *key, const char *value)
{
	napi_value v;
	NAPI_TRY(env, napi_create_string_utf8(env, value != NULL ? value : "", NAPI_AUTO_LENGTH, &v));
	NAPI_TRY(env, napi_set_named_property(env, obj, key, v));
	return obj;
}

static napi_value set_u32(napi_env env, napi_value obj, const char *key, uint32_t value)
{
	napi_value v;
	NAPI_TRY(env, napi_create_uint32(env, value, &v));
	NAPI_TRY(env, napi_set_named_property(env, obj, key, v));
	return obj;
}

static napi_value passwd_object(napi_env env, const struct passwd *pw)
{
	napi_value obj;
	NAPI_TRY(env, napi_create_object(env, &obj));
	if (set_string(env, obj, "name", pw->pw_name) == NULL || set_u32(env, obj, "uid", pw->pw_uid) == NULL ||
	    set_u32(env, obj, "gid", pw->pw_gid) == NULL || set_string(env, obj, "dir", pw->pw_dir) == NULL ||
	    set_string(env, obj, "shell", pw->pw_shell) == NULL ||
	    set_string(env, obj, "gecos", pw->pw_gecos != NULL ? pw->pw_gecos : "") == NULL)
		return NULL;
	return obj;
}

/* One lookup: by uid when name is NULL. null when there is no such entry. */
static napi_value lookup(napi_env env, const char *name, uid_t uid)
{
	const char *syscall = name != NULL ? "getpwnam_r" : "getpwuid_r";
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = hint > 0 && hint <= (long)PW_BUF_MAX ? (size_t)hint : 1024;
	for (;;) {
		char *buf = malloc(size);
		if (buf == NULL)
			return err_errno(env, "malloc", ENOMEM, NULL);
		struct passwd pw, *found = NULL;
		int rc = name != NULL ? getpwnam_r(name, &pw, buf, size, &found)
				      : getpwuid_r(uid, &pw, buf, size, &found);
		if (rc == ERANGE && size < PW_BUF_MAX) {
			free(buf);
			size *= 2;
			continue;
		}
		napi_value result;
		/* "Not found" is 0 with no entry; some backends say ENOENT or ESRCH. */
		if (found == NULL && (rc == 0 || rc == ENOENT || rc == ESRCH)) {
			if (napi_get_null(env, &result) != napi_ok)
				result = err_napi(env, "napi_get_null");
		} else if (rc != 0 || found == NULL) {
			result = err_errno(env, syscall, rc != 0 ? rc : EIO, name);
		} else {
			result = passwd_object(env, found);
		}
		free(buf);
		return result;
	}
}

napi_value nss_getpwuid(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int64_t uid;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_int(env, argv[0], "uid", 0, UINT32_MAX, &uid))
		return NULL;
	return lookup(env, NULL, (uid_t)uid);
}

napi_value nss_getpwnam(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char name[NAME_MAX_BYTES];
	if (!arg_get(env, info, 1, argv, NULL) || !arg_string(env, argv[0], "name", name, sizeof name))
		return NULL;
	return lookup(env, name, 0);
}

napi_value nss_getgrouplist(napi_env env, napi_callback_info info)
{
	napi_value argv[2];
	char name[NAME_MAX_BYTES];
	int64_t gid;
	if (!arg_get(env, info, 2, argv, NULL) || !arg_string(env, argv[0], "name", name, sizeof name) ||
	    !arg_int(env, argv[1], "gid", 0, UINT32_MAX, &gid))
		return NULL;
	int count = 32;
	gid_t *groups = NULL;
	/* glibc reports the size it needs; membership can change between calls,
	 * so retry a few times rather than once. */
	for (int attempt = 0;; attempt++) {
		gid_t *grown = realloc(groups, sizeof(gid_t) * (size_t)count);
		if (grown == NULL) {
			free(groups);
			return err_errno(env, "malloc", ENOMEM, NULL);
		}
		groups = grown;
		int want = count;
		if (getgrouplist(name, (gid_t)gid, groups, &want) >= 0) {
			count = want;
			break;
		}
		if (attempt == 8 || want > GROUPS_MAX || want <= count) {
			free(groups);
			return err_errno(env, "getgrouplist", ERANGE, NULL);
		}
		count = want;
	}
	napi_value arr, v;
	bool ok = napi_create_array_with_length(env, (size_t)count, &arr) == napi_ok;
	for (int i = 0; ok && i < count; i++)
		ok = napi_create_uint32(env, groups[i], &v) == napi_ok &&
		     napi_set_element(env, arr, (uint32_t)i, v) == napi_ok;
	free(groups);
	if (!ok)
		return err_napi(env, "building the group list");
	return arr;
}

/* One group lookup: by gid when name is NULL. {name, gid}, or null when there is no such group. Members are not
 * returned: membership is asked with getgrouplist, which also sees primary groups. */
static napi_value group_lookup(napi_env env, const char *name, gid_t gid)
{
	const char *syscall = name != NULL ? "getgrnam_r" : "getgrgid_r";
	long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
	size_t size = hint > 0 && hint <= (long)PW_BUF_MAX ? (size_t)hint : 1024;
	for (;;) {
		char *buf = malloc(size);
		if (buf == NULL)
			return err_errno(env, "malloc", ENOMEM, NULL);
		struct group gr, *found = NULL;
		int rc = name != NULL ? getgrnam_r(name, &gr, buf, size, &found)
				      : getgrgid_r(gid, &gr, buf, size, &found);
		if (rc == ERANGE && size < PW_BUF_MAX) {
			free(buf);
			size *= 2;
			continue;
		}
		napi_value result;
		if (found == NULL && (rc == 0 || rc == ENOENT || rc == ESRCH)) {
			if (napi_get_null(env, &result) != napi_ok)
				result = err_napi(env, "napi_get_null");
		} else if (rc != 0 || found == NULL) {
			result = err_errno(env, syscall, rc != 0 ? rc : EIO, name);
		} else if (napi_create_object(env, &result) != napi_ok) {
			result = err_napi(env, "napi_create_object");
		} else if (set_string(env, result, "name", found->gr_name) == NULL ||
			   set_u32(env, result, "gid", found->gr_gid) == NULL) {
			result = NULL;
		}
		free(buf);
		return result;
	}
}

napi_value nss_getgrnam(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	char name[NAME_MAX_BYTES];
	if (!arg_get(env, info, 1, argv, NULL) || !arg_string(env, argv[0], "name", name, sizeof name))
		return NULL;
	return group_lookup(env, name, 0);
}

napi_value nss_getgrgid(napi_env env, napi_callback_info info)
{
	napi_value argv[1];
	int64_t gid;
	if (!arg_get(env, info, 1, argv, NULL) || !arg_int(env, argv[0], "gid", 0, UINT32_MAX, &gid))
		return NULL;
	return group_lookup(env, NULL, (gid_t)gid);
}
