import { describe, expect, it } from "vitest";
import { classifyNetworkCode, findNetworkCode } from "./delivery-failure.js";
import { classifyPlivoError, PLIVO_ERROR_CLASSES } from "./plivo.provider.js";
import { classifyTwilioError, redirectUri, TWILIO_ERROR_CLASSES } from "./twilio.provider.js";
import { classifyVonageError, classifyVonageStatus, VONAGE_STATUS_CLASSES } from "./vonage.provider.js";

/** Builds an error shaped like twilio's RestException, with an HTTP status and a Twilio code. */
function restException(status: number, code: number): Error {
  return Object.assign(new Error("The 'To' number +15005550001 is not a valid phone number."), { status, code });
}

/** Builds an error shaped like @vonage/sms's SMSFailure for one failed message. */
function smsFailure(status: string, errorText: string): Error {
  const response = { messageCount: "1", messages: [{ status, errorText }] };
  return Object.assign(new Error("Some SMS messages failed to send"), { response, getFailedMessages: () => response.messages });
}

describe("twilio error table", () => {
  it.each(Object.entries(TWILIO_ERROR_CLASSES))("maps code %s to %s", (code, errorClass) => {
    const error = classifyTwilioError(restException(400, Number(code)), 300);

    expect(error.errorClass).toBe(errorClass);
    expect(error.providerCode).toBe(code);
    expect(error.message).not.toContain("+15005550001");
  });

  it.each([
    [429, "throttled"],
    [500, "provider_unavailable"],
    [503, "provider_unavailable"],
    [401, "auth"],
    [403, "unknown"],
    [400, "unknown"],
  ] as const)("maps HTTP %i with an unlisted code to %s", (status, errorClass) => {
    expect(classifyTwilioError(restException(status, 99999), 300).errorClass).toBe(errorClass);
  });

  it("maps the axios timeout code to timeout", () => {
    const error = classifyTwilioError(Object.assign(new Error("timeout of 300ms exceeded"), { code: "ECONNABORTED" }), 300);

    expect(error.errorClass).toBe("timeout");
    expect(error.message).toContain("300 ms");
  });
});

describe("plivo error table", () => {
  it.each([
    ["invalid dst number", "invalid_recipient"],
    ["dst number is a landline and cannot receive SMS", "invalid_recipient"],
    ["destination number has opted out (STOP)", "opted_out"],
    ["sending to this destination is not permitted for this account", "not_permitted"],
  ] as const)("maps error text %j to %s", (text, errorClass) => {
    expect(PLIVO_ERROR_CLASSES.find((row) => row.pattern.test(text))?.errorClass).toBe(errorClass);
    expect(classifyPlivoError(Object.assign(new Error(text), { status: 400 }), 300).errorClass).toBe(errorClass);
  });

  it.each([
    [403, "not_permitted"],
    [401, "auth"],
    [500, "provider_unavailable"],
    [400, "unknown"],
  ] as const)("maps PlivoRestError HTTP %i with other text to %s", (status, errorClass) => {
    expect(classifyPlivoError(Object.assign(new Error("something else"), { status }), 300).errorClass).toBe(errorClass);
  });

  it.each([
    [429, "throttled"],
    [502, "provider_unavailable"],
    [503, "provider_unavailable"],
  ] as const)("reads HTTP %i from the message of a plain Error", (status, errorClass) => {
    const error = classifyPlivoError(new Error(`AxiosError: Request failed with status code ${status}`), 300);

    expect(error.errorClass).toBe(errorClass);
    expect(error.providerHttpStatus).toBe(status);
  });

  it.each([
    ["AxiosError: timeout of 300ms exceeded\n    at createTimeoutError (axios.cjs:1:1)", "timeout"],
    ["Error: connect ECONNREFUSED 127.0.0.1:9\n    at AxiosError.from (axios.cjs:1:1)", "provider_unavailable"],
    ["Error: read ECONNRESET\n    at AxiosError.from (axios.cjs:1:1)", "unknown"],
    ["Error: socket hang up\n    at AxiosError.from (axios.cjs:1:1)", "unknown"],
  ] as const)("classifies the stack string %j", (stack, errorClass) => {
    expect(classifyPlivoError(stack, 300).errorClass).toBe(errorClass);
  });
});

describe("vonage status table", () => {
  it.each(Object.entries(VONAGE_STATUS_CLASSES))("maps status %s to %s", (status, errorClass) => {
    const error = classifyVonageError(smsFailure(status, "text"), 300);

    expect(error.errorClass).toBe(errorClass);
    expect(error.providerCode).toBe(status);
    expect(error.providerHttpStatus).toBe(200);
  });

  it("maps status 3 about the To number to invalid_recipient", () => {
    expect(classifyVonageStatus("3", "Invalid To Number")).toBe("invalid_recipient");
  });

  it("maps status 3 about another parameter to unknown", () => {
    expect(classifyVonageStatus("3", "Invalid from param")).toBe("unknown");
  });

  it("maps a non-2xx VetchError by its HTTP status", () => {
    const error = Object.assign(new Error("Request failed with status code 429"), { response: { status: 429 } });

    expect(classifyVonageError(error, 300).errorClass).toBe("throttled");
  });

  it("maps an AbortError to timeout", () => {
    const error = Object.assign(new Error("The operation was aborted."), { name: "AbortError" });

    expect(classifyVonageError(error, 300).errorClass).toBe("timeout");
  });
});

describe("network codes", () => {
  it.each([
    ["ECONNREFUSED", "provider_unavailable"],
    ["ENOTFOUND", "provider_unavailable"],
    ["ECONNRESET", "unknown"],
    ["ETIMEDOUT", "timeout"],
    ["EWHATEVER", "unknown"],
  ] as const)("maps %s to %s", (code, errorClass) => {
    expect(classifyNetworkCode(code)).toBe(errorClass);
  });

  it("finds a known code after an unknown one", () => {
    expect(findNetworkCode("ERR_BAD_REQUEST then connect ECONNREFUSED")).toBe("ECONNREFUSED");
  });
});

describe("redirectUri", () => {
  const apiUrl = new URL("http://127.0.0.1:4010/twilio/");

  it("moves a twilio.com URI onto apiUrl", () => {
    expect(redirectUri("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1", apiUrl)).toBe(
      "http://127.0.0.1:4010/twilio/2010-04-01/Accounts/AC1/Messages.json?x=1",
    );
  });

  it("moves a regional twilio.com host too", () => {
    expect(redirectUri("https://api.sydney.au1.twilio.com/v1/x", apiUrl)).toBe("http://127.0.0.1:4010/twilio/v1/x");
  });

  it("leaves other hosts alone", () => {
    expect(redirectUri("https://example.com/twilio.com", apiUrl)).toBe("https://example.com/twilio.com");
  });
});
