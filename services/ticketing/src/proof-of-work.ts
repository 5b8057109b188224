import { createChallenge, verifySolution, type Challenge, type Payload } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/sha';
import { AppError, errors, type DealSnapshot, type DealStore } from '@quickdeal/core';

/** The metric's result for each refusal. */
const proofResults: Record<string, string> = {
  PROOF_OF_WORK_REQUIRED: 'missing',
  PROOF_OF_WORK_INVALID: 'invalid',
  PROOF_OF_WORK_EXPIRED: 'expired',
  PROOF_OF_WORK_FOREIGN: 'foreign',
  PROOF_OF_WORK_REPLAYED: 'replayed',
};

/** How long a challenge may be solved and used. */
const challengeLifetimeMs = 5 * 60_000;

/** The header a ticket request carries its solved challenge in: base64 of ALTCHA's JSON payload `{challenge, solution}`. */
export const proofOfWorkHeader = 'X-Proof-Of-Work';

/**
 * A cost for bots: a deal may ask every ticket request to carry a solved ALTCHA proof-of-work
 * challenge (altcha-lib, SHA-256, deterministic mode). The challenge names the deal and expires;
 * its derived key is signed, so checking a solution is two HMACs, not the work; a solved challenge
 * is spent in Redis on first use. The difficulty (the expected SHA-256 rounds) rises with the line.
 */
export class ProofOfWork {
  constructor(
    private readonly secret: string,
    private readonly store: DealStore,
    /** Counts every check by result (quickdeal_proof_of_work_verifications_total). */
    private readonly verifications?: { inc(labels: { deal: string; result: string }): void },
  ) {}

  /** The difficulty now: the deal's own, times (1 + waiting / 1,000), up to its maximum. */
  static difficultyFor(deal: DealSnapshot): number {
    const pow = deal.proofOfWork;
    if (!pow) return 0;
    const waiting = Math.max(0, deal.lastQueueNumber - deal.served);
    return Math.min(pow.maxDifficulty, Math.round(pow.difficulty * (1 + waiting / 1_000)));
  }

  async challenge(deal: DealSnapshot, now: number): Promise<Challenge> {
    const difficulty = ProofOfWork.difficultyFor(deal);
    return createChallenge({
      algorithm: 'SHA-256',
      cost: 1,
      // the solver counts up from 0: a counter drawn from [0, 2d] costs d rounds on average
      counter: Math.floor(Math.random() * (2 * difficulty + 1)),
      deriveKey,
      data: { deal: deal.dealId },
      expiresAt: new Date(now + challengeLifetimeMs),
      hmacSignatureSecret: this.secret,
      hmacKeySignatureSecret: `${this.secret}:key`,
    });
  }

  /** Checks and spends the request's solved challenge; a clear 4xx when it is missing, broken, foreign, expired or used. */
  async spend(deal: DealSnapshot, header: string | undefined): Promise<void> {
    if (!deal.proofOfWork) return;
    let result = 'verified';
    try {
      await this.check(deal, header);
    } catch (error) {
      result = proofResults[(error as { code?: string }).code ?? ''] ?? 'error';
      throw error;
    } finally {
      this.verifications?.inc({ deal: deal.dealId, result });
    }
  }

  private async check(deal: DealSnapshot, header: string | undefined): Promise<void> {
    if (!header) {
      throw new AppError(
        428,
        'PROOF_OF_WORK_REQUIRED',
        `This deal asks for a solved challenge: GET /api/v1/deals/${deal.dealId}/challenge, then send it in ${proofOfWorkHeader}`,
      );
    }
    let payload: Payload;
    try {
      payload = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as Payload;
      if (!payload?.challenge?.parameters || !payload.solution) throw new Error('incomplete');
    } catch {
      throw errors.badRequest('PROOF_OF_WORK_INVALID', `${proofOfWorkHeader} must be base64 of {"challenge", "solution"}`);
    }
    const result = await verifySolution({
      challenge: payload.challenge,
      solution: payload.solution,
      deriveKey,
      hmacSignatureSecret: this.secret,
      hmacKeySignatureSecret: `${this.secret}:key`,
    }).catch(() => undefined);
    if (result?.expired) throw errors.badRequest('PROOF_OF_WORK_EXPIRED', 'The challenge has expired; ask for a new one');
    if (!result?.verified) throw errors.badRequest('PROOF_OF_WORK_INVALID', 'The challenge or its solution is not valid');
    if (payload.challenge.parameters.data?.deal !== deal.dealId) {
      throw errors.forbidden('PROOF_OF_WORK_FOREIGN', 'This challenge was solved for another deal');
    }
    if (!(await this.store.spendChallenge(deal.dealId, payload.challenge.signature ?? '', challengeLifetimeMs))) {
      throw errors.conflict('PROOF_OF_WORK_REPLAYED', 'This challenge was already used; ask for a new one');
    }
  }
}
