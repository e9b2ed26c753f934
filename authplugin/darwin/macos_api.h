/*
 * The few Objective-C runtime, CoreFoundation and CoreGraphics C functions
 * ui_macos.c calls, declared here because no macOS SDK is available where
 * the bundle is built. Signatures follow Apple's documented headers
 * (objc/runtime.h, objc/message.h, CFPreferences.h, CFString.h,
 * CFNumber.h, CGWindowLevel.h, NSApplication.h); the .tbd files in darwin/stubs say which library
 * exports each one.
 */
#ifndef JCMFA_MACOS_API_H
#define JCMFA_MACOS_API_H

#include <stdint.h>

/* objc/objc.h, objc/runtime.h, objc/message.h */
typedef struct objc_object *id;
typedef struct objc_selector *SEL;
#if defined(__arm64__) || defined(__aarch64__)
typedef _Bool BOOL; /* arm64 macOS: BOOL is bool */
#else
typedef signed char BOOL; /* x86_64 macOS */
#endif
#define YES ((BOOL)1)
#define NO ((BOOL)0)
id objc_getClass(const char *name);
SEL sel_registerName(const char *name);
/* Declared without a prototype on purpose (OBJC_OLD_DISPATCH_PROTOTYPES=0):
 * every call casts it to the exact method signature, which is what makes
 * the call follow the right ABI on both architectures. */
void objc_msgSend(void);
void *objc_autoreleasePoolPush(void);
void objc_autoreleasePoolPop(void *pool);

/* Foundation / AppKit values */
typedef long NSInteger;
typedef double CGFloat;
typedef struct { CGFloat x, y; } NSPoint;
typedef struct { CGFloat width, height; } NSSize;
typedef struct { NSPoint origin; NSSize size; } NSRect;
typedef double NSTimeInterval;
#define NSAlertFirstButtonReturn 1000
/* NSApplication.h: what runModal returns once -[NSApplication abortModal]
 * has ended the modal loop. */
#define NSModalResponseAbort (-1001)
extern id NSApp;                   /* AppKit: the shared NSApplication */
extern id NSModalPanelRunLoopMode; /* AppKit NSApplication.h: the mode runModal runs its loop in */

/* CoreGraphics (CGWindowLevel.h): NSScreenSaverWindowLevel is
 * kCGScreenSaverWindowLevel, which the SDK defines as
 * CGWindowLevelForKey(kCGScreenSaverWindowLevelKey). */
typedef int32_t CGWindowLevel;
typedef int32_t CGWindowLevelKey;
#define kCGScreenSaverWindowLevelKey 13
CGWindowLevel CGWindowLevelForKey(CGWindowLevelKey key);

/* CoreFoundation */
typedef const void *CFTypeRef;
typedef const struct __CFString *CFStringRef;
typedef const struct __CFNumber *CFNumberRef;
typedef const struct __CFBoolean *CFBooleanRef;
typedef const struct __CFAllocator *CFAllocatorRef;
typedef unsigned long CFTypeID;
typedef long CFIndex;
typedef uint32_t CFStringEncoding;
typedef unsigned char Boolean;
#define kCFStringEncodingUTF8 0x08000100u
#define kCFNumberSInt64Type 4
CFStringRef CFStringCreateWithCString(CFAllocatorRef alloc, const char *s, CFStringEncoding enc);
CFTypeRef CFPreferencesCopyAppValue(CFStringRef key, CFStringRef applicationID);
CFTypeID CFGetTypeID(CFTypeRef cf);
CFTypeID CFStringGetTypeID(void);
CFTypeID CFNumberGetTypeID(void);
CFTypeID CFBooleanGetTypeID(void);
Boolean CFStringGetCString(CFStringRef s, char *buf, CFIndex cap, CFStringEncoding enc);
Boolean CFNumberGetValue(CFNumberRef n, CFIndex type, void *out);
Boolean CFBooleanGetValue(CFBooleanRef b);
void CFRelease(CFTypeRef cf);

#endif /* JCMFA_MACOS_API_H */
