/*
 * The part of Apple's AuthorizationPlugin C API (Security.framework,
 * <Security/AuthorizationPlugin.h> and <Security/AuthorizationTags.h>) that
 * jcmfa.bundle uses, declared here because no macOS SDK is available where
 * the plugin is built (docs/macos.md). Layouts and values follow the
 * documented header; nothing here is ours to change. The same declarations
 * let the Linux test harness play the authorization engine.
 */
#ifndef JCMFA_AUTHPLUGIN_API_H
#define JCMFA_AUTHPLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MacTypes.h: on LP64 macOS SInt32 is int and UInt32 is unsigned int. */
typedef int32_t OSStatus;
typedef uint32_t UInt32;

/* Authorization.h */
typedef const char *AuthorizationString;
enum {
	errAuthorizationSuccess = 0,
	errAuthorizationDenied = -60005,
	errAuthorizationInternal = -60008
};

/* AuthorizationTags.h: context keys the built-in mechanisms fill in. */
#define kAuthorizationEnvironmentUsername "username"
/* Set by builtin:authenticate once the password checked out: the account's
 * uid_t, which names the account however the person typed it. */
#define JCMFA_CONTEXT_UID "uid"
/* Hint naming the right being evaluated (e.g. "system.login.console"). */
#define JCMFA_HINT_AUTHORIZE_RIGHT "authorize-right"

/* AuthorizationPlugin.h */
typedef struct AuthorizationValue {
	size_t length;
	void *data;
} AuthorizationValue;

typedef struct AuthorizationValueVector {
	UInt32 count;
	AuthorizationValue *values;
} AuthorizationValueVector;

typedef UInt32 AuthorizationContextFlags;
enum {
	kAuthorizationContextFlagExtractable = (1 << 0),
	kAuthorizationContextFlagVolatile = (1 << 1),
	kAuthorizationContextFlagSticky = (1 << 2)
};

typedef const AuthorizationString AuthorizationMechanismId;
typedef void *AuthorizationPluginRef;
typedef void *AuthorizationMechanismRef;
typedef struct __OpaqueAuthorizationEngine *AuthorizationEngineRef;
typedef void *AuthorizationSessionId;

typedef UInt32 AuthorizationResult;
enum {
	kAuthorizationResultAllow,
	kAuthorizationResultDeny,
	kAuthorizationResultUndefined,
	kAuthorizationResultUserCanceled
};

enum { kAuthorizationPluginInterfaceVersion = 0 };
/* The engine hands over a struct at least this new. Later versions only
 * append members (GetImmutableHintValue, GetLAContext, ...), which this
 * plugin never reads, so they are left out rather than guessed. */
enum { kAuthorizationCallbacksVersion = 1 };

typedef struct AuthorizationCallbacks {
	UInt32 version;
	OSStatus (*SetResult)(AuthorizationEngineRef inEngine, AuthorizationResult inResult);
	OSStatus (*RequestInterrupt)(AuthorizationEngineRef inEngine);
	OSStatus (*DidDeactivate)(AuthorizationEngineRef inEngine);
	OSStatus (*GetContextValue)(AuthorizationEngineRef inEngine, AuthorizationString inKey,
	                            AuthorizationContextFlags *outContextFlags,
	                            const AuthorizationValue **outValue);
	OSStatus (*SetContextValue)(AuthorizationEngineRef inEngine, AuthorizationString inKey,
	                            AuthorizationContextFlags inContextFlags,
	                            const AuthorizationValue *inValue);
	OSStatus (*GetHintValue)(AuthorizationEngineRef inEngine, AuthorizationString inKey,
	                         const AuthorizationValue **outValue);
	OSStatus (*SetHintValue)(AuthorizationEngineRef inEngine, AuthorizationString inKey,
	                         const AuthorizationValue *inValue);
	OSStatus (*GetArguments)(AuthorizationEngineRef inEngine,
	                         const AuthorizationValueVector **outArguments);
	OSStatus (*GetSessionId)(AuthorizationEngineRef inEngine, AuthorizationSessionId *outSessionId);
} AuthorizationCallbacks;

typedef struct AuthorizationPluginInterface {
	UInt32 version;
	OSStatus (*PluginDestroy)(AuthorizationPluginRef inPlugin);
	OSStatus (*MechanismCreate)(AuthorizationPluginRef inPlugin, AuthorizationEngineRef inEngine,
	                            AuthorizationMechanismId mechanismId,
	                            AuthorizationMechanismRef *outMechanism);
	OSStatus (*MechanismInvoke)(AuthorizationMechanismRef inMechanism);
	OSStatus (*MechanismDeactivate)(AuthorizationMechanismRef inMechanism);
	OSStatus (*MechanismDestroy)(AuthorizationMechanismRef inMechanism);
} AuthorizationPluginInterface;

/* The bundle's one exported symbol: SecurityAgent / authorizationhost look
 * it up by name after loading the bundle. */
OSStatus AuthorizationPluginCreate(const AuthorizationCallbacks *callbacks,
                                   AuthorizationPluginRef *outPlugin,
                                   const AuthorizationPluginInterface **outPluginInterface);

#ifdef __cplusplus
}
#endif

#endif /* JCMFA_AUTHPLUGIN_API_H */
