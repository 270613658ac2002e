/* nss.h — passwd and group lookups through NSS. */
#ifndef JAI_ADDON_NSS_H
#define JAI_ADDON_NSS_H

#include <node_api.h>

napi_value nss_getpwuid(napi_env env, napi_callback_info info);
napi_value nss_getpwnam(napi_env env, napi_callback_info info);
napi_value nss_getgrouplist(napi_env env, napi_callback_info info);
napi_value nss_getgrnam(napi_env env, napi_callback_info info);
napi_value nss_getgrgid(napi_env env, napi_callback_info info);

#endif
