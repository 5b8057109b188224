import { errors } from '@quickdeal/core';

/** The answers the checkout routes and the payment flow give when the checkout is not there to act on. */
export const notAdmitted = () => errors.forbidden('NOT_ADMITTED', 'This ticket has no open checkout');
export const checkoutExpired = () => errors.gone('CHECKOUT_EXPIRED', 'The time to pay has run out and the unit went back to the line');
export const alreadyPurchased = () => errors.conflict('ALREADY_PURCHASED', 'You have already bought this deal');
