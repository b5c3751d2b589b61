/**
 * Slack notices for new review items: a paying customer held for review (support maps them with resolveReview) and a
 * refund flagged for finance (resolveRefundRequest). One notice per item, whatever the number of trigger deliveries.
 */
import type { Firestore } from "firebase-admin/firestore";
import { noticeSettings } from "../config/alerts.js";
import { reviewNoticeText, type NoticeSettings } from "../domain/notices.js";
import { fromFirestore } from "../store/db.js";
import { planNoticeOnce } from "../store/notices.js";
import { getDb } from "./runtime.js";

export async function noticeForReviewItem(db: Firestore, reviewId: string, item: Record<string, unknown>, notices: NoticeSettings, now: Date): Promise<boolean> {
  const text = reviewNoticeText(reviewId, item, notices);
  if (!text) return false;
  return planNoticeOnce(db, `review:${reviewId}`, { notice: "review" }, text, { type: "review", jobId: reviewId }, now);
}

/** The deployed trigger's call: the project's Firestore and notice settings, the item as Firestore stored it. */
export function noticeForNewReviewItem(reviewId: string, stored: Record<string, unknown>, now: Date): Promise<boolean> {
  return noticeForReviewItem(getDb(), reviewId, fromFirestore<Record<string, unknown>>(stored), noticeSettings(), now);
}
