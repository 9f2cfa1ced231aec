/** Runtime of generated buf.validate validators (see docs/validation.md). */
export { ItemPaths, ValidationRuleError, ViolationCollector, formatList, itemPaths, keySubscript, runValidation, violation, type ValidateOptions, type ValidationResult, type Violation } from "./violations.js";
export { bytesContains, bytesEqual, bytesHasPrefix, bytesHasSuffix, bytesIn, codePointLength, compilePattern, isUnique, mapSize, utf8Length, type Pattern } from "./strings.js";
export { isHeaderName, isHeaderValue, isProtobufDotFqn, isProtobufFqn, isTrimmedUuid, isUlid, isUuid } from "./formats.js";
export { createDelegate, type CreateValidatorFn } from "./delegate.js";
export { assertValid, createValidationClientHook, createValidationServerHook, violationsError, type MessageValidator } from "./bad-request.js";
export { requestValidation, type RequestValidation, type RequestValidators } from "./enforce.js";
export { isAddress, isEmail, isHostAndPort, isHostname, isIp, isIpPrefix } from "./formats-net.js";
export { createFieldCel, createMessageCel, type CelCheck } from "./cel.js";
export { compareTime, compareTimeToNow, isTimeIn, isWithinOfNow, type TimeLike } from "./time.js";
