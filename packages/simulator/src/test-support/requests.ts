import { SIMULATOR_CREDENTIALS } from "../credentials.js";

/** Builds an HTTP Basic `Authorization` header value. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

const twilio = SIMULATOR_CREDENTIALS.twilio;
const plivo = SIMULATOR_CREDENTIALS.plivo;
const vonage = SIMULATOR_CREDENTIALS.vonage;

/** Sends a form-encoded Twilio create-message request the way twilio-node does. */
export function twilioSend(
  baseUrl: string,
  fields: Record<string, string>,
  auth = basicAuth(twilio.accountSid, twilio.authToken),
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${baseUrl}/2010-04-01/Accounts/${twilio.accountSid}/Messages.json`, {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams(fields).toString(),
    ...init,
  });
}

/** Sends a JSON Plivo send-message request the way the plivo SDK does. */
export function plivoSend(
  baseUrl: string,
  fields: Record<string, unknown>,
  auth = basicAuth(plivo.authId, plivo.authToken),
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${baseUrl}/v1/Account/${plivo.authId}/Message/`, {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify(fields),
    ...init,
  });
}

/** Sends a JSON Vonage SMS request with Basic auth the way @vonage/sms does. */
export function vonageSend(
  baseUrl: string,
  fields: Record<string, unknown>,
  auth = basicAuth(vonage.apiKey, vonage.apiSecret),
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${baseUrl}/sms/json`, {
    method: "POST",
    headers: { authorization: auth, "content-type": "application/json" },
    body: JSON.stringify(fields),
    ...init,
  });
}

/** Ordinary recipient that every provider accepts. */
export const ACCEPTED_TO = "+14155550123";
