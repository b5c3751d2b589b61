/** Deployed entry point: a review item was filed; a paying customer held or a refund flagged is told in Slack. */
import { onDocumentCreated } from "firebase-functions/v2/firestore";
import { noticeForNewReviewItem } from "../services/reviewNotices.js";
import { COL } from "../store/paths.js";

export const onReviewItemCreated = onDocumentCreated({ document: `${COL.reviewQueue}/{reviewId}`, retry: true }, async (event) => {
  const data = event.data?.data();
  if (!data) return;
  await noticeForNewReviewItem(event.params.reviewId, data, new Date());
});
